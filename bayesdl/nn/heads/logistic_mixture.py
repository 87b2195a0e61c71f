"""The discretised logistic mixture head of PixelCNN++: K logistics over the integer levels of each dimension."""

from __future__ import annotations

import pyro.distributions as dist
import torch
import torch.nn.functional as F

from ...validation import check_positive_int
from .categorical import IntegerLevels, _LevelsCategorical, gumbel_argmax


def log_sigmoid_difference(upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    """log(sigma(upper) - sigma(lower)) for upper > lower, accurate in both tails.

    Left of zero it uses log sigma(u) + log(1 - exp(log sigma(l) - log sigma(u))); right of zero the mirror
    image sigma(u) - sigma(l) = sigma(-l) - sigma(-u), so neither case subtracts two numbers close to one.

    Arguments:
        upper, lower: tensors of one shape with upper > lower.

    Example:
        >>> round(float(log_sigmoid_difference(torch.tensor(40.0), torch.tensor(39.0)).exp()), 22) > 0
        True
    """
    left = (upper + lower) < 0
    big = torch.where(left, F.logsigmoid(upper), F.logsigmoid(-lower))
    small = torch.where(left, F.logsigmoid(lower), F.logsigmoid(-upper))
    return big + torch.log(-torch.expm1((small - big).clamp(max=-1e-30)))


class DiscretizedLogisticMixture(IntegerLevels):
    """A K-component logistic mixture discretised to ``num_levels`` levels per dimension (PixelCNN++).

    Level k maps to the centre y_k = 2k/(L-1) - 1 in [-1, 1] and the bin [y_k - 1/(L-1), y_k + 1/(L-1)];
    P(k) = sum_m pi_m [sigma((y_k + delta - mu_m)/s_m) - sigma((y_k - delta - mu_m)/s_m)], with the lowest
    bin extended to -infinity and the highest to +infinity, so the L probabilities sum to one exactly.
    Parameters per dimension: K mixture logits, K means, K log-scales (P = 3K) in that order on the parameter
    axis; log-scales below -7 are clamped to -7.

    Arguments:
        num_components: K, the number of logistic components.
        num_levels: L >= 2, the number of levels; data must be integers 0..L-1.

    Example:
        >>> head = DiscretizedLogisticMixture(num_components=2, num_levels=256)
        >>> levels = torch.arange(256.0).reshape(256, 1)
        >>> round(head.log_prob(torch.zeros(256, 6, 1), levels, 1).exp().sum().item(), 4)
        1.0
        >>> head.distribution(torch.zeros(1, 6, 3), 1).event_shape
        torch.Size([3])

    References:
        Salimans, Karpathy, Chen & Kingma (2017), PixelCNN++, arXiv:1701.05517.
    """

    def __init__(self, num_components: int = 5, num_levels: int = 256) -> None:
        super().__init__()
        self.num_components = check_positive_int(num_components, "num_components")
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)
        self.num_params = 3 * self.num_components

    def _split(self, params: torch.Tensor, axis: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, means, log_scales = params.split(self.num_components, dim=axis)
        return logits, means, log_scales.clamp(min=-7.0)

    def log_prob_elements(self, params: torch.Tensor, y: torch.Tensor, event_ndim: int) -> torch.Tensor:
        axis = -event_ndim - 1
        logits, means, log_scales = self._split(params, axis)
        centre = self.encode(y).unsqueeze(axis)  # [..., 1, *event]
        half = 1.0 / (self.num_levels - 1)
        inv_s = torch.exp(-log_scales)
        upper = (centre + half - means) * inv_s
        lower = (centre - half - means) * inv_s
        log_cdf_upper = F.logsigmoid(upper)  # log sigma(upper): all mass below the upper edge
        log_sf_lower = F.logsigmoid(-lower)  # log (1 - sigma(lower)): all mass above the lower edge
        log_interior = log_sigmoid_difference(upper, lower)
        level = y.long().unsqueeze(axis).expand_as(log_interior)
        log_bin = torch.where(
            level == 0, log_cdf_upper, torch.where(level == self.num_levels - 1, log_sf_lower, log_interior)
        )
        return torch.logsumexp(logits.log_softmax(dim=axis) + log_bin, dim=axis)

    def base_distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        """The categorical over the L levels of each dimension that the mixture defines (L times one log_prob)."""
        shape = (self.num_levels,) + (1,) * (params.dim() - 1 - event_ndim) + (1,) * event_ndim
        levels = torch.arange(self.num_levels, device=params.device, dtype=params.dtype).reshape(shape)
        log_p = self.log_prob_elements(params, levels, event_ndim)  # [L, ..., *event]
        return _LevelsCategorical(logits=log_p.movedim(0, -1), validate_args=False)

    def sample(self, params: torch.Tensor, event_ndim: int, generator: torch.Generator) -> torch.Tensor:
        axis = -event_ndim - 1
        logits, means, log_scales = self._split(params, axis)
        component = gumbel_argmax(logits, axis, generator).unsqueeze(axis)
        mu = means.gather(axis, component).squeeze(axis)
        s = torch.exp(log_scales.gather(axis, component).squeeze(axis))
        u = torch.rand(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype).clamp(1e-6, 1 - 1e-6)
        value = mu + s * (torch.log(u) - torch.log1p(-u))
        level = torch.round((value + 1.0) * (self.num_levels - 1) / 2.0)
        return level.clamp(0, self.num_levels - 1)
