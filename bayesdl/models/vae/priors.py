"""Priors p(z) over the latent code of a VAE.

The prior interface of :class:`bayesdl.models.vae.VAE` is any module with ``latent_dim`` and
``forward(encoder=None) -> Distribution`` over z with an empty batch shape and event shape
``[latent_dim]``; it needs ``log_prob(z)`` for any leading shape of z and ``sample(shape)``. The
VAE passes its encoder, which the VampPrior needs and other priors ignore. A flow prior is the
same interface returning a ``TransformedDistribution`` of a standard Normal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro.distributions as dist
import torch

from ...errors import InputError
from ...io import serializable
from ...validation import check_positive_int, check_tensor


class Prior(torch.nn.Module):
    """Base class of latent priors: ``forward(encoder=None)`` returns p(z).

    A subclass sets ``latent_dim`` and returns from ``forward`` a distribution with empty batch shape and
    event shape [latent_dim]. The base class takes no constructor arguments.

    Example:
        >>> import pyro.distributions as dist
        >>> class LaplacePrior(Prior):  # a heavier-tailed factorised prior
        ...     def __init__(self, latent_dim):
        ...         super().__init__()
        ...         self.latent_dim = latent_dim
        ...     def forward(self, encoder=None):
        ...         return dist.Laplace(torch.zeros(self.latent_dim), torch.ones(self.latent_dim)).to_event(1)
        >>> p = LaplacePrior(2)()
        >>> p.event_shape, round(float(p.log_prob(torch.zeros(2))), 4)  # 2 log(1/2)
        (torch.Size([2]), -1.3863)
    """

    latent_dim: int

    def forward(self, encoder: torch.nn.Module | None = None) -> dist.TorchDistribution:
        raise NotImplementedError


@serializable
class StandardNormalPrior(Prior):
    """p(z) = N(0, I_L).

    The mean and scale are buffers, so the prior follows the module's device.

    Arguments:
        latent_dim: L >= 1, the dimension of z.

    Example:
        >>> p = StandardNormalPrior(2)()
        >>> p.event_shape, round(float(p.log_prob(torch.zeros(2))), 4)
        (torch.Size([2]), -1.8379)
    """

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.register_buffer("loc", torch.zeros(self.latent_dim))
        self.register_buffer("scale", torch.ones(self.latent_dim))

    def forward(self, encoder: torch.nn.Module | None = None) -> dist.TorchDistribution:
        return dist.Normal(self.loc, self.scale).to_event(1)


@serializable
class VampPrior(Prior):
    """The variational mixture of posteriors: p(z) = (1/K) sum_k q(z | u_k) with K learned pseudo-inputs u_k.

    The pseudo-inputs are free parameters of the data's shape, passed through a sigmoid so that
    they stay in [0, 1] like the (binary or grey-level) inputs the encoder was built for. The
    mixture uses the VAE's own encoder, so the prior is trained jointly with it; the KL term has
    no closed form and the VAE estimates it by Monte Carlo.

    Arguments:
        latent_dim: L.
        data_shape: the shape of one example (of a pseudo-input).
        num_components: K, the number of pseudo-inputs (500 in the paper for MNIST).
        init_std: the pseudo-inputs start as sigmoid(N(0, init_std^2)) values, i.e. near 0.5.
        seed: the seed of that initialisation.

    Example:
        >>> from bayesdl.models.vae import MLPEncoder
        >>> enc = MLPEncoder([4], latent_dim=2, hidden_sizes=[8])
        >>> prior = VampPrior(2, [4], num_components=3)
        >>> prior(enc).log_prob(torch.zeros(5, 2)).shape
        torch.Size([5])

    References:
        Tomczak & Welling (2017), VAE with a VampPrior, arXiv:1705.07120.
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        num_components: int = 500,
        init_std: float = 0.01,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.data_shape = tuple(check_positive_int(int(s), "data_shape") for s in data_shape)
        self.num_components = check_positive_int(num_components, "num_components")
        generator = torch.Generator().manual_seed(seed)
        self.raw_pseudo_inputs = torch.nn.Parameter(
            init_std * torch.randn(self.num_components, *self.data_shape, generator=generator)
        )
        self.register_buffer("mixture_logits", torch.zeros(self.num_components))

    @property
    def pseudo_inputs(self) -> torch.Tensor:
        """The K pseudo-inputs u_k in [0, 1], shape [K, *data_shape]."""
        return torch.sigmoid(self.raw_pseudo_inputs)

    def init_from_data(self, x: torch.Tensor, eps: float = 0.05) -> VampPrior:
        """Set the pseudo-inputs to the first K rows of ``x`` (values in [0, 1], squeezed into [eps, 1-eps])."""
        check_tensor(x, "x")
        if x.shape[0] < self.num_components or tuple(x.shape[1:]) != self.data_shape:
            raise InputError(
                f"x must have shape [>= {self.num_components}, {list(self.data_shape)}], got {list(x.shape)}"
            )
        u = x[: self.num_components].to(self.raw_pseudo_inputs).clamp(0, 1) * (1 - 2 * eps) + eps
        with torch.no_grad():
            self.raw_pseudo_inputs.copy_(torch.logit(u))
        return self

    def forward(self, encoder: torch.nn.Module | None = None) -> dist.TorchDistribution:
        if encoder is None:
            raise InputError("VampPrior needs the VAE's encoder: call prior(encoder)")
        components = encoder(self.pseudo_inputs)  # batch [K], event [L]
        mixing = dist.Categorical(logits=self.mixture_logits)
        base = getattr(components, "base_dist", None)
        if (
            type(components) is dist.Independent
            and type(base) is dist.Normal
            and components.reinterpreted_batch_ndims == 1
        ):
            return DiagonalNormalMixture(mixing, components)
        return dist.MixtureSameFamily(mixing, components)


class DiagonalNormalMixture(dist.MixtureSameFamily):
    """A mixture of K diagonal Gaussians whose ``log_prob`` never forms the [..., K, L] tensor of differences.

    ``MixtureSameFamily`` scores every component by broadcasting z [..., 1, L] against [K, L], which for the
    VampPrior (K = 500) at IWAE-5000 scoring takes gigabytes. Here the Mahalanobis terms come from matrix
    products: sum_l (z_l - m_kl)^2 / s_kl^2 = (z^2) s_k^-2 - 2 z (m_k s_k^-2) + sum_l m_kl^2 s_kl^-2. Those
    products run in float64 (outside autocast): the three terms can be much larger than their sum when a scale
    is small, and float32 would lose the difference. Sampling and everything else is ``MixtureSameFamily``'s.

    Arguments:
        mixture_distribution: a ``Categorical`` over the K components.
        component_distribution: ``Independent(Normal(loc [K, L], scale [K, L]), 1)``.

    Example:
        >>> loc, scale = torch.randn(3, 2), torch.rand(3, 2) + 0.1
        >>> mix = DiagonalNormalMixture(dist.Categorical(logits=torch.zeros(3)), dist.Normal(loc, scale).to_event(1))
        >>> z = torch.randn(5, 2)
        >>> reference = dist.MixtureSameFamily(mix.mixture_distribution, mix.component_distribution).log_prob(z)
        >>> torch.allclose(mix.log_prob(z), reference, atol=1e-5)
        True
    """

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        normal = self.component_distribution.base_dist
        loc, scale = normal.loc, normal.scale
        with torch.autocast(value.device.type, enabled=False):
            precision = scale.double().pow(-2)
            loc64, z = loc.double(), value.double()
            squared = (
                (z * z) @ precision.t()
                - 2.0 * (z @ (loc64 * precision).t())
                + (loc64 * loc64 * precision).sum(-1)
            )
            log_components = (
                (-0.5 * squared).to(value.dtype)
                - scale.log().sum(-1)
                - 0.5 * loc.shape[-1] * math.log(2 * math.pi)
            )
            log_weights = torch.log_softmax(self.mixture_distribution.logits, -1)
            return torch.logsumexp(log_components + log_weights, dim=-1)
