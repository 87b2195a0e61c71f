"""The interface between a diffusion model and its sampler and bound.

The samplers (:mod:`~bayesdl.models.diffusion.sampling`) and the full variational bound
(:mod:`~bayesdl.models.diffusion.bound`) drive a model only through :class:`DiffusionProcess`: the fixed
forward process q, one reverse step p(x_{t-1} | x_t), the per-step bound term and the noise source. They
never import the model class, and the model imports them, so each operation has one public entry point
on the model: :meth:`DDPM.sample`, :meth:`DDPM.ddim_sample` and :meth:`DDPM.nll_bound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch


@dataclass
class ReverseStep:
    """The reverse-process Gaussian p(x_{t-1} | x_t) at a batch of (x_t, t), with the denoiser's estimates.

    Returned by :meth:`DDPM.reverse_step`; every field has the shape of x_t, [B, *data_shape].

    Attributes:
        mean: the mean of p(x_{t-1} | x_t).
        log_var: its log-variance (elementwise, expanded to the shape of x_t).
        x0: the denoiser's estimate of x_0 (clamped to [-1, 1] when the step was taken with ``clip``).
        eps: the denoiser's estimate of the noise that produced x_t from x_0.

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.models.diffusion import DDPM
        >>> _ = torch.manual_seed(0)
        >>> model = DDPM(DenoisingMLP(2, hidden=8), data_shape=[2], num_steps=10)
        >>> x_t, t = torch.randn(3, 2), torch.full((3,), 4)
        >>> step = model.reverse_step(x_t, t)
        >>> step.mean.shape, step.log_var.shape
        (torch.Size([3, 2]), torch.Size([3, 2]))
        >>> ab = model.alpha_bar[3]  # x_t = sqrt(alpha-bar_t) x0_hat + sqrt(1 - alpha-bar_t) eps_hat
        >>> torch.allclose(ab.sqrt() * step.x0 + (1 - ab).sqrt() * step.eps, x_t, atol=1e-5)
        True

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239, eq. 11.
    """

    mean: torch.Tensor
    log_var: torch.Tensor
    x0: torch.Tensor
    eps: torch.Tensor


@runtime_checkable
class DiffusionProcess(Protocol):
    """What a sampler or the bound needs from a diffusion model (Ho, Jain & Abbeel 2020, arXiv:2006.11239).

    Attributes:
        num_steps: T; steps are numbered 1..T.
        data_shape: the shape of one example.
        num_dims: the number of dimensions D of one example.
        alpha_bar: the cumulative products alpha-bar_t = prod_{s <= t} (1 - beta_s), shape [T].
        training: the module's training flag (samplers switch to eval mode and restore it).

    Example:
        >>> from bayesdl.models.diffusion import DDPM
        >>> from bayesdl.nn import DenoisingMLP
        >>> model = DDPM(DenoisingMLP(2, hidden=8), data_shape=[2], num_steps=5)
        >>> isinstance(model, DiffusionProcess), tuple(model.noise([3, 2]).shape)
        (True, (3, 2))
    """

    num_steps: int
    data_shape: tuple[int, ...]
    alpha_bar: torch.Tensor
    training: bool

    @property
    def num_dims(self) -> int: ...

    def noise(self, shape: Sequence[int], generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard-normal draws on the model's device and dtype."""
        ...

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """x_t ~ q(x_t | x_0) = N(sqrt(alpha-bar_t) x_0, (1 - alpha-bar_t) I)."""
        ...

    def reverse_step(self, x_t: torch.Tensor, t: torch.Tensor, clip: bool = False) -> ReverseStep:
        """p(x_{t-1} | x_t) and the denoiser's estimates."""
        ...

    def bound_terms_at(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The bound term L_{t-1} of each example at step t, nats [B]."""
        ...

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        """L_T = KL(q(x_T | x_0) || N(0, I)) per example, nats [B]."""
        ...

    def train(self, mode: bool = True) -> object: ...

    def eval(self) -> object: ...
