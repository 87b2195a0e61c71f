"""Flow matching on the conditional optimal-transport path (rectified flow for sigma_min = 0)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...deprecation import sample_call_forms
from ...errors import InputError
from ...io import serializable
from ...validation import check_positive_int
from .base import ContinuousTimeModel


@serializable
class FlowMatching(ContinuousTimeModel):
    """A velocity field v(x, t) regressed on the conditional OT path between data and N(0, I).

    Time runs from the data (t = 0) to the noise (t = 1), as for the SDEs (Lipman et al.'s time is 1 - t):

        x_t = (1 - t) x_0 + (sigma_min + (1 - sigma_min) t) z,  z ~ N(0, I),
        u_t(x_t | x_0, z) = (1 - sigma_min) z - x_0,

    and the loss is E_{t ~ U[0,1], x_0, z} ||v(x_t, t) - u_t||^2 (per dimension). Its minimiser is the marginal
    velocity E[u_t | x_t], whose ODE carries N(0, I) at t = 1 to the data marginal p_0 (the data convolved with
    N(0, sigma_min^2) when sigma_min > 0): the same ODE gives samples (:meth:`sample`) and, through
    :func:`bayesdl.inference.ode_log_likelihood`, the exact log-density of the model. With sigma_min = 0 this is
    the rectified flow of Liu et al.; a batch ``(x_0, z)`` trains on that coupling instead of independent noise
    (the "reflow" step, with pairs from :meth:`couple`).

    Arguments:
        network: ``network(x, s) -> v`` with the shape of x, at network times s = time_scale * t.
        data_shape: the shape of one example.
        sigma_min: the noise left at the data end of the path (0 for rectified flow).
        time_scale: the factor on t before the network (1000 for the DDPM networks).

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.inference import ode_log_likelihood
        >>> model = FlowMatching(DenoisingMLP(2, hidden=16), data_shape=[2])
        >>> x = torch.randn(8, 2)
        >>> model.loss(x).shape, model.sample(3, seed=0).shape
        (torch.Size([]), torch.Size([3, 2]))
        >>> ode_log_likelihood(model, x, rtol=1e-3, atol=1e-3).log_prob.shape
        torch.Size([8])

    References:
        Lipman, Chen, Ben-Hamu, Nickel & Le (2022), Flow Matching for Generative Modeling, arXiv:2210.02747.
        Liu, Gong & Liu (2022), Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified
        Flow, arXiv:2209.03003.
    """

    def __init__(
        self,
        network: torch.nn.Module,
        data_shape: Sequence[int] = (2,),
        sigma_min: float = 0.0,
        time_scale: float = 1000.0,
    ) -> None:
        super().__init__(network, data_shape, time_scale)
        if isinstance(sigma_min, bool) or not isinstance(sigma_min, (int, float)) or not 0 <= sigma_min < 1:
            raise InputError(f"sigma_min must be in [0, 1), got {sigma_min!r}")
        self.sigma_min = float(sigma_min)

    @property
    def time_span(self) -> tuple[float, float]:
        """(0, 1): the data time and the prior time."""
        return (0.0, 1.0)

    def velocity(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """v(x, t), the learned marginal velocity; x [B, ...], t [B]."""
        return self._net(x, t)

    def loss(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """The flow-matching loss on data x [B, *data_shape], with fresh noise or the coupled noise z."""
        self.check_data(x)
        if z is None:
            z = torch.randn_like(x)
        else:
            self.check_data(z, "z")
            if z.shape != x.shape:
                raise InputError(f"z must have the shape of x {list(x.shape)}, got {list(z.shape)}")
        t = torch.rand(len(x), device=x.device, dtype=x.dtype)
        tt = self._times(t, x)
        x_t = (1 - tt) * x + (self.sigma_min + (1 - self.sigma_min) * tt) * z
        target = (1 - self.sigma_min) * z - x
        return (self._net(x_t, t) - target).pow(2).flatten(1).mean(1).mean()

    @sample_call_forms()
    def sample(
        self,
        num_samples: int,
        *,
        method: str = "dopri5",
        rtol: float = 1e-5,
        atol: float = 1e-5,
        options: dict | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """n samples [n, *data_shape]: z ~ N(0, I) carried by the ODE from t = 1 to t = 0 (``method="euler"`` with
        ``options={"step_size": h}`` gives the few-step sampler that rectified flows are made for)."""
        return self.sample_ode(
            num_samples, method=method, rtol=rtol, atol=atol, options=options, seed=seed, generator=generator
        )

    def couple(self, n: int, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        """n pairs (x_0, z) joined by the current ODE, for a reflow round: ``Trainer(model).fit((x0, z))``.

        Arguments:
            n: the number of pairs.
            kwargs: :meth:`sample` arguments (the solver and the random source).
        """
        check_positive_int(n, "n")
        z = self.prior_sample(n, self._generator(kwargs.pop("seed", None), kwargs.pop("generator", None)))
        return self.transport(z, **kwargs)[0], z

    def extra_repr(self) -> str:
        return f"data_shape={list(self.data_shape)}, sigma_min={self.sigma_min}"
