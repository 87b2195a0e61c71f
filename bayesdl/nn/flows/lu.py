"""Invertible linear maps with an LU parameterisation: a dense layer for vectors and a 1x1 convolution for images.

W = P L (U + diag(sign * exp(log_s))), with P a fixed permutation, L unit lower triangular and U
strictly upper triangular (Kingma & Dhariwal 2018, "Glow", arXiv:1807.03039, sec. 3.2). Then
log|det W| = sum(log_s), costing O(D) instead of O(D^3). W starts as a random rotation.
"""

from __future__ import annotations

import torch
from torch import nn

from ...errors import InputError
from ...validation import check_positive_int
from .base import Transform


class LUWeight(nn.Module):
    """An invertible D x D matrix in LU form; ``weight()``, ``inverse_weight()`` and ``log_abs_det()``.

    Arguments:
        features: D.
        seed: the seed of the random rotation it starts from.

    Example:
        >>> lu = LUWeight(3)
        >>> w = lu.weight()
        >>> bool(torch.allclose(torch.linalg.slogdet(w)[1], lu.log_abs_det(), atol=1e-5))
        True

    References:
        Kingma & Dhariwal (2018), arXiv:1807.03039.
    """

    def __init__(self, features: int, seed: int = 0) -> None:
        super().__init__()
        self.features = check_positive_int(features, "features")
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(features, features, generator=g, dtype=torch.float64))
        p, lower, upper = torch.linalg.lu(q)
        diag = torch.diagonal(upper)
        self.register_buffer("perm", p.float())
        self.register_buffer("sign", torch.sign(diag).float())
        self.register_buffer("lower_mask", torch.tril(torch.ones(features, features), -1))
        self.register_buffer("eye", torch.eye(features))
        self.lower = nn.Parameter(lower.float())
        self.upper = nn.Parameter(torch.triu(upper, 1).float())
        self.log_s = nn.Parameter(torch.log(diag.abs()).float())

    def _factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign * torch.exp(self.log_s))
        return lower, upper

    def weight(self) -> torch.Tensor:
        """W = P L U, shape [D, D]."""
        lower, upper = self._factors()
        return self.perm @ lower @ upper

    def inverse_weight(self) -> torch.Tensor:
        """W^{-1} = U^{-1} L^{-1} P^T by two triangular solves."""
        lower, upper = self._factors()
        inv_l = torch.linalg.solve_triangular(lower, self.eye, upper=False, unitriangular=True)
        inv_lu = torch.linalg.solve_triangular(upper, inv_l, upper=True)
        return inv_lu @ self.perm.T

    def log_abs_det(self) -> torch.Tensor:
        """log|det W| = sum(log_s) (a scalar)."""
        return self.log_s.sum()


class LULinear(Transform):
    """z = x W^T + b for vectors [B, D], with W in LU form.

    ``forward`` returns (z, log|det W| per example [B]); ``inverse`` undoes it with the negated log-det.
    The bias starts at zero.

    Arguments:
        features: D.
        seed: the seed of the random rotation W starts from.

    Example:
        >>> t = LULinear(4)
        >>> x = torch.randn(2, 4, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.allclose(t.inverse(t(x)[0])[0], x, atol=1e-5))
        True
        >>> t(x)[1].abs().max().item() < 1e-5  # a rotation: |det W| = 1 at initialisation
        True

    References:
        Kingma & Dhariwal (2018), arXiv:1807.03039.
    """

    def __init__(self, features: int, seed: int = 0) -> None:
        super().__init__()
        self.lu = LUWeight(features, seed)
        self.bias = nn.Parameter(torch.zeros(features))

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.lu.features:
            raise InputError(f"x must have shape [B, {self.lu.features}], got {tuple(x.shape)}")

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x)
        z = x @ self.lu.weight().T + self.bias
        return z, self.lu.log_abs_det().expand(x.shape[0])

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z)
        x = (z - self.bias) @ self.lu.inverse_weight().T
        return x, -self.lu.log_abs_det().expand(z.shape[0])


class InvertibleConv1x1(Transform):
    """A 1x1 convolution z[:, :, h, w] = W x[:, :, h, w] over the channels of images [B, C, H, W].

    log|det| = H * W * log|det W| (Glow, sec. 3.2).

    Arguments:
        channels: C, the size of the C x C matrix W.
        seed: the seed of the random rotation W starts from.

    Example:
        >>> t = InvertibleConv1x1(4)
        >>> x = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.allclose(t.inverse(t(x)[0])[0], x, atol=1e-5))
        True

    References:
        Kingma & Dhariwal (2018), arXiv:1807.03039.
    """

    def __init__(self, channels: int, seed: int = 0) -> None:
        super().__init__()
        self.lu = LUWeight(channels, seed)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.lu.features:
            raise InputError(f"x must have shape [B, {self.lu.features}, H, W], got {tuple(x.shape)}")

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x)
        z = torch.einsum("oc,bchw->bohw", self.lu.weight(), x)
        return z, (x.shape[2] * x.shape[3] * self.lu.log_abs_det()).expand(x.shape[0])

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z)
        x = torch.einsum("oc,bchw->bohw", self.lu.inverse_weight(), z)
        return x, -(z.shape[2] * z.shape[3] * self.lu.log_abs_det()).expand(z.shape[0])
