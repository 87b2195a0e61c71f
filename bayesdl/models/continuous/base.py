"""What the continuous-time models share: the network call with scaled time, the Gaussian prior, data checks,
and sampling by integrating the ODE dx/dt = v(x, t) from the prior time to the data time.

A subclass gives ``velocity(x, t)``, ``time_span = (t_data, t_prior)`` and ``loss``; it is then a
:class:`~bayesdl.contracts.ProbabilityFlow`, whose log-likelihood :func:`bayesdl.inference.ode_log_likelihood`
computes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ...errors import InputError
from ...ops.ode import solve_ode
from ...validation import check_positive_int, check_tensor


class ContinuousTimeModel(torch.nn.Module):
    """The base of :class:`~bayesdl.models.continuous.ScoreSDE` and :class:`~bayesdl.models.continuous.FlowMatching`.

    Arguments:
        network: a module ``network(x, s) -> [B, ...]`` with the shape of x, for x [B, *data_shape] and network
            times s = ``time_scale`` * t [B] (e.g. :class:`~bayesdl.nn.DenoisingMLP` for vectors,
            :class:`~bayesdl.nn.UNet` for images).
        data_shape: the shape of one example.
        time_scale: the factor applied to t in [0, 1] before the network sees it (1000 suits the sinusoidal
            embeddings of the DDPM networks, which were built for steps 1..1000).
    """

    #: the network may run under bf16/fp16 autocast; its output is cast back before the loss
    mixed_precision_safe = True
    prior_std: float = 1.0

    def __init__(self, network: torch.nn.Module, data_shape: Sequence[int], time_scale: float) -> None:
        super().__init__()
        if not isinstance(network, torch.nn.Module):
            raise InputError(f"network must be a torch.nn.Module, got {type(network).__name__}")
        if not isinstance(data_shape, (list, tuple)) or not data_shape:
            raise InputError(f"data_shape must be a non-empty list of positive ints, got {data_shape!r}")
        self.data_shape = tuple(check_positive_int(d, "data_shape entry") for d in data_shape)
        if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)) or not time_scale > 0:
            raise InputError(f"time_scale must be a positive number, got {time_scale!r}")
        self.time_scale = float(time_scale)
        self.network = network

    @property
    def num_dims(self) -> int:
        """D, the number of dimensions of one example."""
        return math.prod(self.data_shape)

    @property
    def time_span(self) -> tuple[float, float]:
        """(t_data, t_prior)."""
        raise NotImplementedError

    def velocity(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """dx/dt of the ODE that carries the prior (at t_prior) to the model (at t_data); x [B, ...], t [B]."""
        raise NotImplementedError

    def check_data(self, x: object, name: str = "x") -> torch.Tensor:
        """Refuse anything but finite floating-point data of shape [B, *data_shape] (an InputError naming ``name``)."""
        check_tensor(x, name, shape=[None, *self.data_shape], floating=True)
        return x

    def _reference(self) -> torch.Tensor:
        for tensor in self.parameters():
            return tensor
        for tensor in self.buffers():
            return tensor
        return torch.zeros(())

    def _generator(self, seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
        if generator is not None:
            return generator
        if seed is None:
            return None
        return torch.Generator(device=self._reference().device).manual_seed(int(seed))

    def _net(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.network(x, t * self.time_scale)
        if out.shape != x.shape:
            raise InputError(
                f"the network must return the shape of x {tuple(x.shape)}, got {tuple(out.shape)}"
            )
        return out.to(x.dtype)

    def _times(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """t [B] reshaped to [B, 1, ..., 1] to broadcast over x."""
        return t.reshape(-1, *([1] * (x.dim() - 1)))

    def noise(self, shape: Sequence[int], generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard-normal draws of ``shape`` on the model's device and dtype."""
        ref = self._reference()
        return torch.randn(tuple(shape), generator=generator, device=ref.device, dtype=ref.dtype)

    def prior_sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws of the prior N(0, prior_std^2 I), [n, *data_shape]."""
        return self.prior_std * self.noise((n, *self.data_shape), generator)

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z; 0, prior_std^2 I) per example, [B] (nats)."""
        s2 = self.prior_std**2
        return -0.5 * (z.pow(2).flatten(1).sum(1) / s2 + self.num_dims * math.log(2 * math.pi * s2))

    def transport(
        self,
        z: torch.Tensor,
        *,
        method: str = "dopri5",
        rtol: float = 1e-5,
        atol: float = 1e-5,
        options: dict[str, Any] | None = None,
    ) -> tuple[torch.Tensor, int]:
        """Carry points z [n, *data_shape] at t_prior along the ODE to t_data; returns (x, nfe)."""
        self.check_data(z, "z")
        n = len(z)
        t_data, t_prior = self.time_span

        def func(t: torch.Tensor, state: tuple[torch.Tensor]) -> tuple[torch.Tensor]:
            return (self.velocity(state[0], t.reshape(1).expand(n)),)

        with torch.no_grad():
            solution = solve_ode(
                func, (z,), t_prior, t_data, method=method, rtol=rtol, atol=atol, options=options
            )
        return solution.state[0], solution.nfe

    def sample_ode(
        self,
        n: int,
        *,
        method: str = "dopri5",
        rtol: float = 1e-5,
        atol: float = 1e-5,
        options: dict[str, Any] | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        return_nfe: bool = False,
    ):
        """Draw z from the prior and integrate the ODE from t_prior to t_data: exact draws of the model whose
        density :func:`~bayesdl.inference.ode_log_likelihood` computes (up to the solver tolerance).

        Returns:
            samples [n, *data_shape], or ``(samples, nfe)`` with ``return_nfe``.
        """
        check_positive_int(n, "n")
        z = self.prior_sample(n, self._generator(seed, generator))
        x, nfe = self.transport(z, method=method, rtol=rtol, atol=atol, options=options)
        return (x, nfe) if return_nfe else x
