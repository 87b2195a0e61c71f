"""Planar flow (Rezende & Mohamed 2015, arXiv:1505.05770, sec. 4.1 and appendix A.1).

Sampling direction: x = z + u_hat * tanh(w^T z + b), with log|det dx/dz| = log|1 + u_hat^T w tanh'(w^T z + b)|.
Invertibility needs w^T u_hat >= -1; it is enforced by u_hat = u + (m(w^T u) - w^T u) w / |w|^2 with
m(a) > -1 (appendix A.1 uses m(a) = -1 + softplus(a)). We shift it, m(a) = -1 + softplus(a + log(e - 1)),
so that m(0) = 0: then small u and w give a layer close to the identity. (With the paper's m, w^T u_hat
is about -0.31 at w^T u = 0 however small w is, so |u_hat| ~ 0.31 / |w| is large at a small random
initialisation and a deep stack starts far from the identity.) The data-to-noise direction has no closed form: with a = w^T z,
w^T x = a + (w^T u_hat) tanh(a + b) is strictly increasing in a, so a is found by bisection on the
interval [w^T x - |w^T u_hat|, w^T x + |w^T u_hat|], then z = x - u_hat tanh(a + b). A final Newton
step taken with gradients enabled gives the exact implicit-function gradient, so the density can be
trained by maximum likelihood.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ...validation import check_positive_int
from .base import Transform

_SHIFT = math.log(math.e - 1)  # softplus(_SHIFT) = 1


class Planar(Transform):
    """One planar flow layer with the invertibility constraint enforced.

    Arguments:
        features: D.
        seed: seed of the small random initial parameters.

    Example:
        >>> t = Planar(2)
        >>> z = torch.randn(4, 2)
        >>> x, _ = t.inverse(z)
        >>> bool(torch.allclose(t(x)[0], z, atol=1e-5))
        True

    References:
        Rezende & Mohamed (2015), "Variational Inference with Normalizing Flows", arXiv:1505.05770.
    """

    bisection_steps = 60

    def __init__(self, features: int, seed: int = 0) -> None:
        super().__init__()
        self.features = check_positive_int(features, "features")
        g = torch.Generator().manual_seed(seed)
        self.u = nn.Parameter(0.1 * torch.randn(features, generator=g))
        self.w = nn.Parameter(0.1 * torch.randn(features, generator=g))
        self.b = nn.Parameter(torch.zeros(()))

    def u_hat(self) -> torch.Tensor:
        """The constrained u, with w^T u_hat > -1."""
        wu = self.w @ self.u
        return self.u + (F.softplus(wu + _SHIFT) - 1 - wu) * self.w / (self.w @ self.w).clamp_min(1e-12)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.features:
            raise InputError(f"x must have shape [B, {self.features}], got {tuple(x.shape)}")

    def _log_det(self, a: torch.Tensor, wu: torch.Tensor) -> torch.Tensor:
        slope = 1 - torch.tanh(a + self.b) ** 2
        return torch.log1p(wu * slope)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z)
        u = self.u_hat()
        a = z @ self.w
        x = z + u * torch.tanh(a + self.b)[:, None]
        return x, self._log_det(a, self.w @ u)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x)
        u = self.u_hat()
        wu = self.w @ u
        c = x @ self.w
        with torch.no_grad():
            c64, wu64, b64 = c.double(), wu.double(), self.b.double()
            low, high = c64 - wu64.abs(), c64 + wu64.abs()
            for _ in range(self.bisection_steps):
                mid = 0.5 * (low + high)
                above = mid + wu64 * torch.tanh(mid + b64) > c64
                high = torch.where(above, mid, high)
                low = torch.where(above, low, mid)
            root = (0.5 * (low + high)).to(x.dtype)
        # One Newton step from the root: its value is unchanged, its gradient is the implicit one.
        slope = 1 - torch.tanh(root + self.b) ** 2
        a = root - (root + wu * torch.tanh(root + self.b) - c) / (1 + wu * slope)
        z = x - u * torch.tanh(a + self.b)[:, None]
        return z, -self._log_det(a, wu)
