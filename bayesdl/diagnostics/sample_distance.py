"""Two-sample distances for judging generated samples against held-out data."""

from __future__ import annotations

import torch

from ..errors import InputError
from ..validation import check_tensor


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """The energy distance 2 E||X - Y|| - E||X - X'|| - E||Y - Y'|| between two samples [N, D] and [M, D].

    The within-sample means leave out the diagonal (U-statistics), so the estimate is unbiased and
    near 0 (it can be slightly negative) when both samples come from the same distribution. Compare
    it with the distance between two held-out samples of the same size, which is the floor.

    Arguments:
        x: the first sample [N, D], N >= 2 (e.g. generated points).
        y: the second sample [M, D], M >= 2, same D (e.g. held-out data).

    Returns:
        The estimated energy distance (a Python float, in the units of the data; computed in float64).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> near = energy_distance(torch.randn(500, 2, generator=g), torch.randn(500, 2, generator=g))
        >>> far = energy_distance(torch.randn(500, 2, generator=g), torch.randn(500, 2, generator=g) + 2)
        >>> abs(near) < 0.05 < far
        True

    References:
        Szekely & Rizzo (2013), Energy statistics: a class of statistics based on distances,
        Journal of Statistical Planning and Inference 143(8).
    """
    check_tensor(x, "x", ndim=2)
    check_tensor(y, "y", ndim=2)
    if x.shape[1] != y.shape[1] or len(x) < 2 or len(y) < 2:
        raise InputError(f"x and y need the same width and at least 2 rows, got {list(x.shape)} and {list(y.shape)}")
    x, y = x.double(), y.double()
    n, m = len(x), len(y)
    between = torch.cdist(x, y).mean()
    within_x = torch.cdist(x, x).sum() / (n * (n - 1))
    within_y = torch.cdist(y, y).sum() / (m * (m - 1))
    return float(2 * between - within_x - within_y)
