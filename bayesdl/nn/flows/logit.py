"""Logit preprocessing of data in [0, 1] as the first transform of a flow, with its log-determinant.

y = logit(p), p = alpha + (1 - 2 alpha) x (Dinh et al. 2016, arXiv:1605.08803, sec. 4.1). Because the
map is part of the flow, log p(x) already includes log|det dy/dx| = sum [log(1 - 2 alpha) - log p - log(1 - p)],
so densities and bits/dim refer to the data x, not to the logit space. The support of the
resulting density is the open interval (-alpha / (1 - 2 alpha), (1 - alpha) / (1 - 2 alpha)) per
dimension, slightly wider than [0, 1]; data outside it are rejected. The density restricted to [0, 1]^D
integrates to at most 1, so dequantised likelihoods computed with it remain valid bounds.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...errors import InputError
from ...validation import check_tensor
from .base import Transform, sum_except_batch


class Logit(Transform):
    """x in [0, 1] -> logit(alpha + (1 - 2 alpha) x).

    Arguments:
        alpha: the squeeze towards 0.5 that keeps the logit finite at 0 and 1 (0 < alpha < 0.5).

    Example:
        >>> t = Logit(0.05)
        >>> x = torch.rand(3, 4)
        >>> bool(torch.allclose(t.inverse(t(x)[0])[0], x, atol=1e-5))
        True

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), arXiv:1605.08803; Papamakarios et al. (2017), arXiv:1705.07057.
    """

    def __init__(self, alpha: float = 0.05) -> None:
        super().__init__()
        if not 0.0 < alpha < 0.5:
            raise InputError(f"alpha must lie in (0, 0.5), got {alpha}")
        self.alpha = float(alpha)

    @property
    def support_bounds(self) -> tuple[float, float]:
        """The open interval of x for which alpha + (1 - 2 alpha) x lies in (0, 1)."""
        a = self.alpha
        return -a / (1 - 2 * a), (1 - a) / (1 - 2 * a)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor(x, "x")
        lo, hi = float(x.detach().min()), float(x.detach().max())
        low, high = self.support_bounds
        if lo <= low or hi >= high:
            raise InputError(
                f"x is outside the support ({low:.4g}, {high:.4g}) of the logit preprocessing "
                f"(values in [{lo:.4g}, {hi:.4g}]); scale or dequantise the data into [0, 1] first"
            )
        p = self.alpha + (1 - 2 * self.alpha) * x
        y = torch.log(p) - torch.log1p(-p)
        ld = math.log(1 - 2 * self.alpha) - torch.log(p) - torch.log1p(-p)
        return y, sum_except_batch(ld)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        p = torch.sigmoid(z)
        x = (p - self.alpha) / (1 - 2 * self.alpha)
        ld = F.logsigmoid(z) + F.logsigmoid(-z) - math.log(1 - 2 * self.alpha)
        return x, sum_except_batch(ld)
