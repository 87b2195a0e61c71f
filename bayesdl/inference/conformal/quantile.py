"""The finite-sample conformal quantile shared by every split-conformal method."""

from __future__ import annotations

import math

import torch

from ...errors import InputError
from ...validation import check_tensor


def check_alpha(alpha: object) -> float:
    """Check a miscoverage level alpha in (0, 1) and return it as a float."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"alpha must be a miscoverage level in (0, 1), got {alpha!r}")
    return float(alpha)


def conformal_quantile(scores: torch.Tensor, alpha: float) -> torch.Tensor:
    """The ceil((n + 1)(1 - alpha))-th smallest of n calibration scores.

    If the n calibration scores and a test score are exchangeable, the test score is at most this value with
    probability at least 1 - alpha, and (for scores without ties) at most 1 - alpha + 1/(n + 1). Given the
    calibration set, the coverage of a fresh test point is Beta(k, n + 1 - k) distributed with
    k = ceil((n + 1)(1 - alpha)) (Vovk et al. 2005; Angelopoulos & Bates 2021, arXiv:2107.07511, section 3.2).

    Arguments:
        scores: calibration non-conformity scores [n] (finite).
        alpha: the miscoverage level in (0, 1).

    Returns:
        The quantile, a 0-dimensional tensor on the scores' device.

    Raises:
        InputError: when n < ceil(1/alpha) - 1: with so few points the quantile would be +infinity, i.e. no
            finite interval or set has the promised coverage.

    Example:
        >>> conformal_quantile(torch.arange(1.0, 20.0), 0.1)   # n = 19: the 18th smallest
        tensor(18.)

    References:
        Lei, G'Sell, Rinaldo, Tibshirani & Wasserman (2018), Distribution-Free Predictive Inference for
        Regression, arXiv:1604.04173.
    """
    alpha = check_alpha(alpha)
    check_tensor(scores, "scores", ndim=1)
    n = scores.shape[0]
    k = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    if k > n:
        needed = math.ceil((1 - alpha) / alpha - 1e-9)
        raise InputError(
            f"conformal calibration at alpha={alpha} needs at least {needed} calibration points, got {n}: with fewer "
            "the (1 - alpha) quantile is infinite"
        )
    return torch.sort(scores).values[k - 1]
