"""Decoder likelihoods p(x | z): how a decoder's raw outputs become a distribution over the data.

A likelihood turns a parameter tensor of shape ``[..., P, *data_shape]`` (P = :attr:`num_params`
numbers per data dimension, as the decoder networks produce them) into a Pyro/torch distribution
whose event shape is ``data_shape``, so ``log_prob(x)`` is one log-density per example in nats.

* :class:`BernoulliLikelihood`: binary data, logits parameterisation (numerically stable log-sigmoid).
* :class:`GaussianLikelihood`: real data, a fixed scale, or a scale predicted per pixel by the decoder.
* :class:`CategoricalLikelihood` (option ``"levels"``): 8-bit images as 256 unordered levels per pixel (a softmax
  per pixel, as in van den Oord, Kalchbrenner & Kavukcuoglu 2016, arXiv:1601.06759). The option was called
  ``"categorical"`` (the classifiers' name for class labels); the old name still works, with a warning.

Each one also checks data before it is scored: non-binary values for a Bernoulli, non-integer or
out-of-range levels for the categorical, NaN for all, raise :class:`bayesdl.errors.InputError`.
"""

from __future__ import annotations

import math
from typing import Literal

import pyro.distributions as dist
import torch
import torch.nn.functional as F

from ...deprecation import renamed_value
from ...errors import InputError
from ...io import serializable
from ...validation import check_binary, check_levels, check_positive_int, check_tensor


class Likelihood(torch.nn.Module):
    """Base class: ``num_params`` numbers per data dimension -> a distribution with event shape ``data_shape``.

    A subclass sets ``num_params`` and implements :meth:`distribution`; it overrides :meth:`check_data`
    when its support is narrower than "any finite number". The base class takes no constructor arguments.

    Example:
        >>> import pyro.distributions as dist
        >>> class LaplaceLikelihood(Likelihood):  # location and log-scale per data dimension
        ...     num_params = 2
        ...     def distribution(self, params, event_ndim):
        ...         loc, log_scale = params.unbind(-event_ndim - 1)
        ...         return dist.Laplace(loc, log_scale.exp()).to_event(event_ndim)
        >>> d = LaplaceLikelihood().distribution(torch.zeros(4, 2, 3), event_ndim=1)
        >>> d.batch_shape, d.event_shape, round(float(d.log_prob(torch.zeros(3))[0]), 4)  # 3 log(1/2)
        (torch.Size([4]), torch.Size([3]), -2.0794)
        >>> LaplaceLikelihood().check_data(torch.zeros(2, 3)).shape
        torch.Size([2, 3])
    """

    #: how many numbers the decoder must output per data dimension
    num_params: int = 1

    def distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        """The distribution for ``params`` [..., P, *data_shape]; ``event_ndim`` = len(data_shape)."""
        raise NotImplementedError

    def log_prob(self, params: torch.Tensor, x: torch.Tensor, event_ndim: int) -> torch.Tensor:
        """log p(x) in nats per example, shape params.shape[:-event_ndim - 1]; the same number as
        ``distribution(params, event_ndim).log_prob(x)``, which is what this default computes.
        Subclasses may override it with a direct formula that skips building the distribution."""
        return self.distribution(params, event_ndim).log_prob(x)

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise InputError unless ``x`` is valid data for this likelihood; return ``x``."""
        check_tensor(x, name, floating=False)
        return x


def _independent(base: dist.TorchDistribution, event_ndim: int) -> dist.TorchDistribution:
    """``base`` with its last ``event_ndim`` batch dimensions made event dimensions, without torch's
    per-call argument validation: the data were checked by :meth:`Likelihood.check_data` and the
    parameters are valid by construction."""
    return dist.Independent(base, event_ndim, validate_args=False)


class _LevelsCategorical(dist.Categorical):
    """A categorical over the levels 0..K-1 whose ``mean`` is the expected level (torch returns NaN)."""

    @property
    def mean(self) -> torch.Tensor:
        levels = torch.arange(self.probs.shape[-1], device=self.probs.device, dtype=self.probs.dtype)
        return (self.probs * levels).sum(-1)

    @property
    def variance(self) -> torch.Tensor:
        levels = torch.arange(self.probs.shape[-1], device=self.probs.device, dtype=self.probs.dtype)
        return (self.probs * levels**2).sum(-1) - self.mean**2


@serializable
class BernoulliLikelihood(Likelihood):
    """p(x|z) = prod_d Bernoulli(x_d; sigmoid(l_d)) with decoder logits l; for binary data.

    Example:
        >>> lik = BernoulliLikelihood()
        >>> d = lik.distribution(torch.zeros(2, 1, 3), event_ndim=1)
        >>> d.log_prob(torch.tensor([[0., 1., 1.], [1., 1., 1.]]))
        tensor([-2.0794, -2.0794])
    """

    num_params = 1

    def distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        return _independent(dist.Bernoulli(logits=params.squeeze(-event_ndim - 1), validate_args=False), event_ndim)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor, event_ndim: int) -> torch.Tensor:
        # sum_d x_d l_d - log(1 + e^{l_d}) as one fused kernel (the training hot path of Bernoulli VAEs)
        logits = params.squeeze(-event_ndim - 1)
        if x.shape != logits.shape:
            x = x.expand(logits.shape)
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(-event_ndim).sum(-1)

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        # the encoder and the fused cross-entropy both need floating data: 0/1 as an integer tensor is refused here
        check_tensor(x, name, floating=True, finite=False, nonempty=False)
        return check_binary(x, name)


@serializable
class GaussianLikelihood(Likelihood):
    """p(x|z) = prod_d N(x_d; mu_d, sigma_d^2).

    Arguments:
        scale: a fixed standard deviation sigma shared by all dimensions, or None to let the decoder
            predict log sigma_d per dimension (then the decoder outputs two numbers per dimension).
        min_scale: with a learned scale, sigma_d = min_scale + softplus(raw_d), which keeps the
            density bounded (a Gaussian decoder whose sigma can reach 0 has an unbounded likelihood).

    Example:
        >>> d = GaussianLikelihood(scale=1.0).distribution(torch.zeros(1, 1, 2), event_ndim=1)
        >>> round(float(d.log_prob(torch.zeros(1, 2))), 4) == round(-math.log(2 * math.pi), 4)
        True
    """

    def __init__(self, scale: float | None = None, min_scale: float = 1e-3) -> None:
        super().__init__()
        if scale is not None and not (float(scale) > 0 and math.isfinite(float(scale))):
            raise InputError(f"scale must be a positive number or None (learned), got {scale!r}")
        if not float(min_scale) >= 0:
            raise InputError(f"min_scale must be >= 0, got {min_scale!r}")
        self.scale = None if scale is None else float(scale)
        self.min_scale = float(min_scale)
        self.num_params = 1 if scale is not None else 2

    def distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        axis = -event_ndim - 1
        if self.scale is not None:
            loc = params.squeeze(axis)
            return _independent(dist.Normal(loc, torch.full_like(loc, self.scale), validate_args=False), event_ndim)
        loc, raw = params.unbind(axis)
        return _independent(dist.Normal(loc, self.min_scale + F.softplus(raw), validate_args=False), event_ndim)

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        return check_tensor(x, name, floating=True)


@serializable(name="VAECategoricalLikelihood")  # the classifier head owns the plain name
class CategoricalLikelihood(Likelihood):
    """p(x|z) = prod_d Categorical(x_d; softmax(l_d)) over ``num_levels`` intensity levels per dimension.

    The data are integer levels 0..K-1 (as an integer or a float tensor holding integers). The
    decoder outputs K logits per dimension.

    Arguments:
        num_levels: K, 256 for 8-bit images.

    Example:
        >>> d = CategoricalLikelihood(4).distribution(torch.zeros(1, 4, 2), event_ndim=1)
        >>> round(float(d.log_prob(torch.tensor([[0., 3.]]))), 4) == round(2 * math.log(0.25), 4)
        True

    References:
        van den Oord, Kalchbrenner & Kavukcuoglu (2016), Pixel Recurrent Neural Networks, arXiv:1601.06759.
    """

    def __init__(self, num_levels: int = 256) -> None:
        super().__init__()
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)
        self.num_params = self.num_levels

    def distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        logits = params.movedim(-event_ndim - 1, -1)
        return _independent(_LevelsCategorical(logits=logits, validate_args=False), event_ndim)

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        return check_levels(x, name, self.num_levels)


DecoderLikelihood = Literal["bernoulli", "gaussian", "levels"]
LIKELIHOODS = {"bernoulli": BernoulliLikelihood, "gaussian": GaussianLikelihood, "levels": CategoricalLikelihood}
#: old option names, still accepted with a DeprecationWarning
RENAMED_LIKELIHOODS = {"categorical": "levels"}


def make_likelihood(likelihood: DecoderLikelihood | Likelihood) -> Likelihood:
    """A likelihood from a name ("bernoulli", "gaussian" (learned scale), "levels" (256 levels)) or an instance.

    Arguments:
        likelihood: the name ("categorical" is the deprecated name of "levels") or a :class:`Likelihood`.

    Returns:
        The likelihood.

    Example:
        >>> type(make_likelihood("levels")).__name__
        'CategoricalLikelihood'
    """
    if isinstance(likelihood, Likelihood):
        return likelihood
    likelihood = renamed_value(likelihood, "likelihood", RENAMED_LIKELIHOODS)
    if likelihood not in LIKELIHOODS:
        raise InputError(f"unknown likelihood {likelihood!r}; expected one of {list(LIKELIHOODS)} or a Likelihood")
    return LIKELIHOODS[likelihood]()
