"""Gaussian terms of the diffusion bound: KL between diagonal Gaussians, and the decoder log-likelihoods.

All functions work elementwise on tensors that broadcast; sum over the data dimensions yourself.
Variances are passed as log-variances, which keeps tiny variances (beta_1 = 1e-4) accurate.
"""

from __future__ import annotations

import math

import torch

from ...densities import normal_log_prob


def gaussian_kl(
    mean1: torch.Tensor, log_var1: torch.Tensor, mean2: torch.Tensor, log_var2: torch.Tensor
) -> torch.Tensor:
    """KL(N(mean1, exp(log_var1)) || N(mean2, exp(log_var2))), elementwise, in nats.

    Arguments:
        mean1: the mean of the first Gaussian (any shape that broadcasts with the others).
        log_var1: the log-variance of the first Gaussian.
        mean2: the mean of the second Gaussian.
        log_var2: the log-variance of the second Gaussian.

    Returns:
        The KL divergence (>= 0) in nats, with the broadcast shape of the inputs.

    Example:
        >>> float(gaussian_kl(torch.tensor(1.0), torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0)))
        0.5
        >>> gaussian_kl(torch.zeros(2), torch.zeros(2), torch.zeros(2), torch.zeros(2))
        tensor([0., 0.])

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239, eq. 5.
    """
    return 0.5 * (
        log_var2
        - log_var1
        + torch.exp(log_var1 - log_var2)
        + (mean1 - mean2) ** 2 * torch.exp(-log_var2)
        - 1.0
    )


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, exp(log_var)), elementwise, in nats (the continuous decoder for vector data).

    Arguments:
        x: the data (any shape that broadcasts with mean and log_var).
        mean: the Gaussian mean.
        log_var: the Gaussian log-variance.

    Returns:
        The log-density in nats, with the broadcast shape of the inputs (a density, so it can exceed 0).

    Example:
        >>> round(float(gaussian_log_likelihood(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0))), 4)
        -0.9189
    """
    return normal_log_prob(x, mean, log_var)


def _log1mexp(a: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(a)) for a <= 0, accurate near both ends (Maechler 2012)."""
    return torch.where(a > -math.log(2.0), torch.log(-torch.expm1(a)), torch.log1p(-torch.exp(a)))


def discretized_gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor, num_levels: int = 256
) -> torch.Tensor:
    """log P(x) of data on a grid of ``num_levels`` points in [-1, 1] under a Gaussian integrated over bins.

    The grid points are c_k = 2k/(K-1) - 1 and each bin is [c_k - d, c_k + d] with d = 1/(K-1); the
    first and last bins extend to -inf and +inf, so the K probabilities sum to 1. This is the L_0
    decoder of Ho, Jain & Abbeel (2020, eq. 13). Differences of normal CDFs are taken in log space
    on the side of the mean where they do not cancel, so the result is accurate for tiny variances.

    Arguments:
        x: data on the grid, in [-1, 1].
        mean, log_var: the decoder Gaussian.
        num_levels: K (256 for 8-bit images).

    Returns:
        log-probabilities in nats, elementwise.

    Example:
        >>> grid = torch.linspace(-1, 1, 4)
        >>> p = discretized_gaussian_log_likelihood(grid, torch.tensor(0.2), torch.tensor(0.0), 4).exp()
        >>> round(float(p.sum()), 6)
        1.0

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
    """
    half_width = 1.0 / (num_levels - 1)
    inv_std = torch.exp(-0.5 * log_var)
    upper = (x - mean + half_width) * inv_std
    lower = (x - mean - half_width) * inv_std
    # log(Phi(upper) - Phi(lower)); reflect to the upper tail when both points are on the right.
    reflect = (upper + lower) > 0
    hi = torch.where(reflect, -lower, upper)
    lo = torch.where(reflect, -upper, lower)
    log_hi, log_lo = torch.special.log_ndtr(hi), torch.special.log_ndtr(lo)
    middle = log_hi + _log1mexp(torch.clamp(log_lo - log_hi, max=0.0))
    first = torch.special.log_ndtr(upper)  # bin (-inf, c_0 + d]
    last = torch.special.log_ndtr(-lower)  # bin [c_{K-1} - d, +inf)
    return torch.where(x < -1 + half_width / 2, first, torch.where(x > 1 - half_width / 2, last, middle))
