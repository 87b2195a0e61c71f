"""Radial flow (Rezende & Mohamed 2015, arXiv:1505.05770, sec. 4.1 and appendix A.2).

Sampling direction: x = z + beta h(r) (z - z0), r = |z - z0|, h(r) = 1 / (alpha + r), with
log|det dx/dz| = (D - 1) log(1 + beta h) + log(1 + beta h + beta h'(r) r). Invertibility needs
beta >= -alpha; we use alpha = softplus(a) and beta = -alpha + softplus(b'). The inverse is in closed
form: the radius r' = |x - z0| = r (1 + beta / (alpha + r)) gives the quadratic
r^2 + (alpha + beta - r') r - alpha r' = 0 with one non-negative root.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ...validation import check_positive_int
from .base import Transform


class Radial(Transform):
    """One radial flow layer around a learned centre z0, with the invertibility constraint enforced.

    Arguments:
        features: D.
        seed: seed of the random initial centre.

    Example:
        >>> t = Radial(2)
        >>> z = torch.randn(4, 2)
        >>> x, _ = t.inverse(z)
        >>> bool(torch.allclose(t(x)[0], z, atol=1e-5))
        True

    References:
        Rezende & Mohamed (2015), "Variational Inference with Normalizing Flows", arXiv:1505.05770.
    """

    def __init__(self, features: int, seed: int = 0) -> None:
        super().__init__()
        self.features = check_positive_int(features, "features")
        g = torch.Generator().manual_seed(seed)
        self.z0 = nn.Parameter(0.5 * torch.randn(features, generator=g))
        self.raw_alpha = nn.Parameter(torch.zeros(()))
        self.raw_beta = nn.Parameter(torch.zeros(()))

    def alpha_beta(self) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha > 0 and beta > -alpha."""
        alpha = F.softplus(self.raw_alpha)
        return alpha, -alpha + F.softplus(self.raw_beta)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.features:
            raise InputError(f"x must have shape [B, {self.features}], got {tuple(x.shape)}")

    def _log_det(self, r: torch.Tensor) -> torch.Tensor:
        alpha, beta = self.alpha_beta()
        h = 1 / (alpha + r)
        bh = beta * h
        return (self.features - 1) * torch.log1p(bh) + torch.log1p(bh - beta * h * h * r)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z)
        alpha, beta = self.alpha_beta()
        diff = z - self.z0
        r = diff.norm(dim=1)
        x = z + (beta / (alpha + r))[:, None] * diff
        return x, self._log_det(r)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x)
        alpha, beta = self.alpha_beta()
        diff = x - self.z0
        r_out = diff.norm(dim=1)
        p = alpha + beta - r_out
        r = 0.5 * (-p + torch.sqrt(p * p + 4 * alpha * r_out))
        z = self.z0 + diff / (1 + beta / (alpha + r))[:, None]
        return z, -self._log_det(r)
