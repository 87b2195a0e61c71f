"""Gaussian heads: a mean per dimension, and a variance that is fixed, learned once, or emitted by the network."""

from __future__ import annotations

import math
from typing import Literal, Union

import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

from ...densities import normal_log_prob
from ...errors import InputError
from ...io import serializable
from ...validation import check_tensor
from .base import Head

#: how the network's second output per dimension gives the scale
ScaleOutput = Literal["softplus", "log_std", "log_var"]
_SCALE_OUTPUTS = ("softplus", "log_std", "log_var")


class _NormalHead(Head):
    """Shared part: y_d ~ N(mean_d, exp(log_var_d)); a subclass implements :meth:`mean_log_var`."""

    def check(self, y: torch.Tensor, name: str = "y") -> torch.Tensor:
        return check_tensor(y, name, floating=True)

    def mean_log_var(self, params: torch.Tensor, event_ndim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and the log-variance of every dimension, each ``[..., *event_shape]``.

        Arguments:
            params: raw outputs [..., P, *event_shape].
            event_ndim: the number of event dimensions (0 for one target per example).
        """
        raise NotImplementedError

    def mean_std(self, params: torch.Tensor, event_ndim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and the standard deviation of every dimension, each ``[..., *event_shape]``."""
        mean, log_var = self.mean_log_var(params, event_ndim)
        return mean, torch.exp(0.5 * log_var).expand_as(mean)

    def mean_var(self, params: torch.Tensor, event_ndim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and the variance of every dimension (the predictive mean and noise variance of a regressor).

        Arguments:
            params: raw outputs [..., P, *event_shape].
            event_ndim: the number of event dimensions.
        """
        mean, log_var = self.mean_log_var(params, event_ndim)
        return mean, log_var.exp().expand_as(mean)

    def log_prob_elements(self, params: torch.Tensor, y: torch.Tensor, event_ndim: int) -> torch.Tensor:
        mean, log_var = self.mean_log_var(params, event_ndim)
        return normal_log_prob(y, mean, log_var)

    def base_distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        return dist.Normal(*self.mean_std(params, event_ndim), validate_args=False)

    def sample(self, params: torch.Tensor, event_ndim: int, generator: torch.Generator) -> torch.Tensor:
        mean, std = self.mean_std(params, event_ndim)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + std * eps


@serializable(name="GaussianLikelihood")  # the key files written by the VAE decoders store
class GaussianHead(_NormalHead):
    """p(y) = prod_d N(y_d; mu_d, sigma_d^2), for real data (a density, not a mass).

    Arguments:
        scale: how sigma is given.

            * a number: a fixed sigma shared by all dimensions; the network emits only the mean (P = 1);
            * ``"softplus"`` (or None, the default): the network emits (mu_d, r_d) and
              sigma_d = min_scale + softplus(r_d), bounded below so the density stays bounded (a VAE decoder
              whose sigma can reach 0 has an unbounded likelihood);
            * ``"log_std"``: the network emits (mu_d, log sigma_d) (the autoregressive models);
            * ``"log_var"``: the network emits (mu_d, log sigma_d^2) (the heteroscedastic regressor).
        min_scale: the floor of sigma with ``"softplus"``.

    Example:
        >>> head = GaussianHead(scale=1.0)
        >>> round(float(head.log_prob(torch.zeros(1, 1, 2), torch.zeros(1, 2), 1)), 4) == round(-math.log(2 * math.pi), 4)
        True
        >>> GaussianHead().num_params, GaussianHead(scale=0.5).num_params
        (2, 1)
        >>> round(GaussianHead(scale="log_std").log_prob(torch.zeros(1, 2, 1), torch.zeros(1, 1), 1).item(), 4)
        -0.9189

    References:
        Kingma & Welling (2014), Auto-Encoding Variational Bayes, arXiv:1312.6114, appendix C.2 (Gaussian decoder).
    """

    def __init__(self, scale: Union[float, ScaleOutput, None] = None, min_scale: float = 1e-3) -> None:  # noqa: UP007
        super().__init__()
        if scale is None:
            scale = "softplus"
        if isinstance(scale, str):
            if scale not in _SCALE_OUTPUTS:
                raise InputError(
                    f"scale must be a positive number or one of {list(_SCALE_OUTPUTS)}, got {scale!r}"
                )
            self.scale: float | None = None
            self.scale_output: str = scale
        else:
            if isinstance(scale, bool) or not (float(scale) > 0 and math.isfinite(float(scale))):
                raise InputError(
                    f"scale must be a positive number or one of {list(_SCALE_OUTPUTS)} (learned), got {scale!r}"
                )
            self.scale, self.scale_output = float(scale), "fixed"
        if not float(min_scale) >= 0:
            raise InputError(f"min_scale must be >= 0, got {min_scale!r}")
        self.min_scale = float(min_scale)
        self.num_params = 1 if self.scale is not None else 2

    def mean_log_var(self, params: torch.Tensor, event_ndim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        axis = -event_ndim - 1
        if self.scale is not None:
            mean = params.squeeze(axis)
            return mean, torch.full_like(mean, 2.0 * math.log(self.scale))
        mean, raw = params.unbind(axis)
        if self.scale_output == "log_var":
            return mean, raw
        if self.scale_output == "log_std":
            return mean, 2.0 * raw
        return mean, 2.0 * torch.log(self.min_scale + F.softplus(raw))

    def mean_std(self, params: torch.Tensor, event_ndim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        axis = -event_ndim - 1
        if self.scale is not None:
            mean = params.squeeze(axis)
            return mean, torch.full_like(mean, self.scale)
        mean, raw = params.unbind(axis)
        if self.scale_output == "softplus":
            return mean, self.min_scale + F.softplus(raw)
        if self.scale_output == "log_std":
            return mean, torch.exp(raw)
        return mean, torch.exp(0.5 * raw)


@serializable(name="HeteroscedasticGaussian")
class HeteroscedasticGaussianHead(GaussianHead):
    """p(y|x) = N(mu(x), exp(s(x))) from two network outputs per target, the mean and the log-variance.

    The NLL 0.5 [s + (y - mu)^2 exp(-s) + log 2 pi] is written in terms of s, so it never forms a variance
    that could underflow to zero.

    Example:
        >>> head = HeteroscedasticGaussianHead()
        >>> mean, var = head.mean_var(torch.tensor([[1.0, 0.0]]))
        >>> mean.item(), var.item(), head.kind
        (1.0, 1.0, 'regression')

    References:
        Nix & Weigend (1994), Estimating the mean and variance of the target probability distribution;
        Kendall & Gal (2017), What uncertainties do we need in Bayesian deep learning?, arXiv:1703.04977, eq. 8.
    """

    kind = "regression"

    def __init__(self) -> None:
        super().__init__(scale="log_var")


@serializable(name="HomoscedasticGaussian")
class HomoscedasticGaussianHead(_NormalHead):
    """p(y|x) = N(mu(x), sigma^2) from one network output per target, with one noise sd for all inputs.

    Arguments:
        noise_std: the initial (or fixed) noise standard deviation sigma.
        learnable: learn log sigma jointly with the network (else it is a fixed buffer).

    Example:
        >>> head = HomoscedasticGaussianHead(0.5, learnable=False)
        >>> head.noise_std.item(), head.mean_var(torch.tensor([[2.0]]))[1].item()
        (0.5, 0.25)

    References:
        Gal & Ghahramani (2016), Dropout as a Bayesian Approximation, arXiv:1506.02142 (a fixed noise
        1/tau from the model precision).
    """

    kind = "regression"
    num_params = 1

    def __init__(self, noise_std: float = 1.0, learnable: bool = True) -> None:
        super().__init__()
        if not noise_std > 0:
            raise InputError(f"noise_std must be positive, got {noise_std}")
        value = torch.tensor(math.log(noise_std), dtype=torch.float32)
        if learnable:
            self.log_noise_std = nn.Parameter(value)
        else:
            self.register_buffer("log_noise_std", value)

    @property
    def noise_std(self) -> torch.Tensor:
        """The current noise standard deviation."""
        return self.log_noise_std.exp()

    def mean_log_var(self, params: torch.Tensor, event_ndim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        mean = params.select(-event_ndim - 1, 0)
        return mean, (2.0 * self.log_noise_std).expand_as(mean)
