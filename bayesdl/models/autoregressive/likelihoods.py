"""Per-dimension output distributions of autoregressive models (shared by MADE and PixelCNN).

A network produces ``P`` parameters for each of ``N`` dimensions, laid out [B, P, N]; a likelihood
turns them into elementwise log-probabilities [B, N] of the data, draws samples with an explicit
``torch.Generator``, validates data, and maps data to the network's input scale.

* :class:`BernoulliOutput`: one logit per dimension, data in {0, 1}.
* :class:`LevelsOutput` (option ``"levels"``): K logits per dimension, data are integer levels {0..K-1}
  (K = 256 for 8-bit grey images, as in van den Oord et al. 2016, arXiv:1601.06759). The option was called
  ``"categorical"``, a name the classifiers use for class labels; the old name still works, with a warning.
* :class:`GaussianOutput`: mean and log standard deviation per dimension, real data.
* :class:`DiscretizedLogisticMixture`: a mixture of K logistics discretised to the levels
  {0..L-1}, with the edge cases of Salimans, Karpathy, Chen & Kingma (2017), "PixelCNN++",
  arXiv:1701.05517: the first level takes all mass below its upper bin edge, the last all mass
  above its lower edge, so the L probabilities sum to one exactly.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
import torch.nn.functional as F

from ...deprecation import renamed_value
from ...validation import check_binary, check_choice, check_levels, check_positive_int, check_tensor

OutputName = Literal["bernoulli", "levels", "gaussian", "logistic_mixture"]
LIKELIHOODS: tuple[str, ...] = get_args(OutputName)
#: old option names, still accepted with a DeprecationWarning
RENAMED_LIKELIHOODS = {"categorical": "levels"}


class OutputLikelihood:
    """Interface: ``num_params``, ``check(x, name)``, ``encode(x)``, ``log_prob(params, x)``, ``sample(params, generator)``.

    A subclass sets ``num_params`` (P, the network outputs per data dimension) and implements
    :meth:`log_prob` and :meth:`sample`; the defaults of :meth:`check` (finite values) and
    :meth:`encode` (cast to float) suit real-valued data. The base class takes no constructor arguments.

    Example:
        >>> class LaplaceOutput(OutputLikelihood):  # location and log-scale per dimension
        ...     num_params = 2
        ...     def log_prob(self, params, x):
        ...         loc, log_b = params[:, 0], params[:, 1]
        ...         return -(x - loc).abs() * torch.exp(-log_b) - log_b - math.log(2.0)
        >>> lik = LaplaceOutput()
        >>> lik.check(torch.zeros(1, 3), "x")  # finite: no error
        >>> lik.log_prob(torch.zeros(1, 2, 3), torch.tensor([[0.0, 1.0, -2.0]]))
        tensor([[-0.6931, -1.6931, -2.6931]])
    """

    num_params: int = 1

    def check(self, x: torch.Tensor, name: str) -> None:
        """Raise InputError if ``x`` has NaN/inf values or is not in the support (e.g. non-binary for a Bernoulli).

        Models check shapes with ``check_tensor(..., finite=False)`` and leave values to this method, so
        that the common case costs one pass over the data.
        """
        check_tensor(x, name)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The float network input that represents data ``x``."""
        return x.float()

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Elementwise log p(x_n | params_n), params [B, P, N], x [B, N] -> [B, N] (nats)."""
        raise NotImplementedError

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One draw per dimension from params [B, P, N] -> [B, N] (float)."""
        raise NotImplementedError


class BernoulliOutput(OutputLikelihood):
    """Bernoulli(sigmoid(logit)) per dimension, for binary data.

    Example:
        >>> BernoulliOutput().log_prob(torch.zeros(1, 1, 2), torch.tensor([[0.0, 1.0]])).exp()
        tensor([[0.5000, 0.5000]])
    """

    num_params = 1

    def check(self, x: torch.Tensor, name: str) -> None:
        check_binary(x, name)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # squeeze, not params[:, 0]: its backward is a view, where select's writes a zero-filled copy
        return -F.binary_cross_entropy_with_logits(params.squeeze(1), x, reduction="none")

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(params[:, 0].shape, generator=generator, device=params.device, dtype=params.dtype)
        return (u < torch.sigmoid(params[:, 0])).to(params.dtype)


def _gumbel_argmax(logits: torch.Tensor, dim: int, generator: torch.Generator) -> torch.Tensor:
    """A categorical draw by the Gumbel-max trick along ``dim`` (uses only ``generator``)."""
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    gumbel = -torch.log((-torch.log(u.clamp(min=1e-20))).clamp(min=1e-20))
    return (logits + gumbel).argmax(dim)


class LevelsOutput(OutputLikelihood):
    """Categorical(softmax(logits)) over ``num_levels`` levels per dimension (integer data).

    The network sees the levels rescaled to [-1, 1] (:meth:`encode`) and outputs P = ``num_levels``
    logits per dimension; :meth:`log_prob` returns nats per dimension, shape [B, N].

    Arguments:
        num_levels: L >= 2, the number of levels; data must be integers 0..L-1 (256 for 8-bit images).

    Example:
        >>> LevelsOutput(4).log_prob(torch.zeros(1, 4, 1), torch.tensor([[3.0]])).exp()
        tensor([[0.2500]])
        >>> LevelsOutput(4).encode(torch.tensor([[0.0, 3.0]]))
        tensor([[-1.,  1.]])

    References:
        van den Oord, Kalchbrenner & Kavukcuoglu (2016), Pixel Recurrent Neural Networks, arXiv:1601.06759.
    """

    def __init__(self, num_levels: int = 256) -> None:
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)
        self.num_params = self.num_levels

    def check(self, x: torch.Tensor, name: str) -> None:
        check_levels(x, name, self.num_levels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() * (2.0 / (self.num_levels - 1)) - 1.0

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        log_p = params.log_softmax(dim=1)
        return log_p.gather(1, x.long().unsqueeze(1)).squeeze(1)

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return _gumbel_argmax(params, 1, generator).to(params.dtype)


class GaussianOutput(OutputLikelihood):
    """Normal(mean, exp(log_std)) per dimension, for real-valued data (a density, not a mass).

    Example:
        >>> round(GaussianOutput().log_prob(torch.zeros(1, 2, 1), torch.zeros(1, 1)).item(), 4)
        -0.9189
    """

    num_params = 2

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        mean, log_std = params[:, 0], params[:, 1]
        return -0.5 * ((x - mean) * torch.exp(-log_std)) ** 2 - log_std - 0.5 * math.log(2 * math.pi)

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        eps = torch.randn(params[:, 0].shape, generator=generator, device=params.device, dtype=params.dtype)
        return params[:, 0] + torch.exp(params[:, 1]) * eps


class DiscretizedLogisticMixture(OutputLikelihood):
    """A K-component logistic mixture discretised to ``num_levels`` levels (PixelCNN++).

    Level k maps to the centre y_k = 2k/(L-1) - 1 in [-1, 1] and the bin [y_k - 1/(L-1), y_k + 1/(L-1)];
    P(k) = sum_m pi_m [sigma((y_k + delta - mu_m)/s_m) - sigma((y_k - delta - mu_m)/s_m)], with the
    lowest bin extended to -infinity and the highest to +infinity. Parameters per dimension: K mixture
    logits, K means, K log-scales (P = 3K), laid out [B, 3K, N] in that order; log-scales below -7
    are clamped to -7.

    Arguments:
        num_components: K, the number of logistic components.
        num_levels: L >= 2, the number of levels; data must be integers 0..L-1.

    Example:
        >>> lik = DiscretizedLogisticMixture(num_components=2, num_levels=256)
        >>> levels = torch.arange(256.0).reshape(256, 1)
        >>> round(lik.log_prob(torch.zeros(256, 6, 1), levels).exp().sum().item(), 4)
        1.0

    References:
        Salimans, Karpathy, Chen & Kingma (2017), arXiv:1701.05517.
    """

    def __init__(self, num_components: int = 5, num_levels: int = 256) -> None:
        self.num_components = check_positive_int(num_components, "num_components")
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)
        self.num_params = 3 * self.num_components

    def check(self, x: torch.Tensor, name: str) -> None:
        check_levels(x, name, self.num_levels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() * (2.0 / (self.num_levels - 1)) - 1.0

    def _split(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = self.num_components
        logits, means, log_scales = params[:, :k], params[:, k : 2 * k], params[:, 2 * k :]
        return logits, means, log_scales.clamp(min=-7.0)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        logits, means, log_scales = self._split(params)
        y = self.encode(x).unsqueeze(1)  # [B, 1, N]
        half = 1.0 / (self.num_levels - 1)
        inv_s = torch.exp(-log_scales)
        upper = (y + half - means) * inv_s
        lower = (y - half - means) * inv_s
        log_cdf_upper = F.logsigmoid(upper)  # log sigma(upper): all mass below the upper edge
        log_sf_lower = F.logsigmoid(-lower)  # log (1 - sigma(lower)): all mass above the lower edge
        log_interior = _log_sigmoid_difference(upper, lower)
        level = x.long().unsqueeze(1).expand_as(log_interior)
        log_bin = torch.where(level == 0, log_cdf_upper, torch.where(level == self.num_levels - 1, log_sf_lower, log_interior))
        return torch.logsumexp(logits.log_softmax(dim=1) + log_bin, dim=1)

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        logits, means, log_scales = self._split(params)
        component = _gumbel_argmax(logits, 1, generator).unsqueeze(1)
        mu = means.gather(1, component).squeeze(1)
        s = torch.exp(log_scales.gather(1, component).squeeze(1))
        u = torch.rand(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype).clamp(1e-6, 1 - 1e-6)
        y = mu + s * (torch.log(u) - torch.log1p(-u))
        level = torch.round((y + 1.0) * (self.num_levels - 1) / 2.0)
        return level.clamp(0, self.num_levels - 1)


def _log_sigmoid_difference(upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    """log(sigma(upper) - sigma(lower)) for upper > lower, accurate in both tails.

    Left of zero it uses log sigma(u) + log(1 - exp(log sigma(l) - log sigma(u))); right of zero the
    mirror image sigma(u) - sigma(l) = sigma(-l) - sigma(-u), so neither case subtracts two numbers
    close to one.
    """
    left = (upper + lower) < 0
    big = torch.where(left, F.logsigmoid(upper), F.logsigmoid(-lower))
    small = torch.where(left, F.logsigmoid(lower), F.logsigmoid(-upper))
    return big + torch.log(-torch.expm1((small - big).clamp(max=-1e-30)))


def make_likelihood(name: OutputName, num_levels: int = 256, num_components: int = 5) -> OutputLikelihood:
    """Build an output likelihood by name ("bernoulli", "levels", "gaussian", "logistic_mixture").

    Arguments:
        name: one of "bernoulli", "levels", "gaussian", "logistic_mixture" ("categorical" is the deprecated
            name of "levels").
        num_levels: L, the number of integer levels (levels and logistic_mixture only).
        num_components: K, the mixture components (logistic_mixture only).

    Returns:
        An :class:`OutputLikelihood`; an unknown name raises InputError.

    Example:
        >>> make_likelihood("levels", num_levels=4).num_params
        4
        >>> make_likelihood("logistic_mixture", num_levels=16, num_components=3).num_params
        9
    """
    name = check_choice(renamed_value(name, "likelihood", RENAMED_LIKELIHOODS), "likelihood", LIKELIHOODS)
    if name == "bernoulli":
        return BernoulliOutput()
    if name == "levels":
        return LevelsOutput(num_levels)
    if name == "gaussian":
        return GaussianOutput()
    return DiscretizedLogisticMixture(num_components, num_levels)


#: the old name of :class:`LevelsOutput`
CategoricalOutput = LevelsOutput
