"""Closed-form log-densities that several layers need, written once (they depend only on torch).

* :func:`normal_log_prob`: log N(x | mean, exp(log_var)), in terms of the log-variance.
"""

from __future__ import annotations

import math

import torch

__all__ = ["LOG_2PI", "normal_log_prob"]

#: log(2 pi)
LOG_2PI = math.log(2.0 * math.pi)


def normal_log_prob(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor | float) -> torch.Tensor:
    """Elementwise log N(x | mean, exp(log_var)) = -0.5 [log_var + (x - mean)^2 exp(-log_var) + log 2 pi].

    Written in terms of the log-variance, so it never divides by a variance that could underflow to zero.
    This is the one Gaussian log-density of the output heads, the supervised losses, the diffusion decoder
    and the posterior-predictive draws.

    Arguments:
        x: the values, any shape broadcastable with ``mean`` and ``log_var``.
        mean: the means.
        log_var: the log-variances (a tensor, or a number for a shared variance).

    Returns:
        The log-density in nats per element, of the broadcast shape (a density, so it can exceed 0).

    Example:
        >>> round(float(normal_log_prob(torch.zeros(1), torch.zeros(1), torch.zeros(1))), 4)
        -0.9189

    References:
        Nix & Weigend (1994), Estimating the mean and variance of the target probability distribution, ICNN;
        Kendall & Gal (2017), arXiv:1703.04977, eq. 8.
    """
    log_var = torch.as_tensor(log_var, dtype=mean.dtype, device=mean.device)
    return -0.5 * (log_var + (x - mean).square() * torch.exp(-log_var) + LOG_2PI)
