"""Activation normalisation (Kingma & Dhariwal 2018, "Glow", arXiv:1807.03039, sec. 3.1).

z = (x + bias) * exp(log_scale) per feature (vectors) or per channel (images). On the first forward
pass in training mode, bias and log_scale are set from that batch so that z has zero mean and unit
variance per feature (data-dependent initialisation); afterwards they are ordinary parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from ...errors import InputError
from ...validation import check_positive_int
from .base import Transform


class ActNorm(Transform):
    """Per-feature affine normalisation with data-dependent initialisation.

    Arguments:
        features: D for vectors [B, D], or C for images [B, C, H, W].
        eps: added to the batch standard deviation at initialisation.

    Example:
        >>> norm = ActNorm(2)
        >>> z, _ = norm(torch.randn(500, 2) * 3 + 1)
        >>> bool(z.mean(0).abs().max() < 1e-4), bool(norm.initialized)
        (True, True)

    References:
        Kingma & Dhariwal (2018), arXiv:1807.03039.
    """

    def __init__(self, features: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.features = check_positive_int(features, "features")
        self.eps = eps
        self.bias = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))
        self.register_buffer("initialized", torch.tensor(False))

    def _shape(self, x: torch.Tensor) -> tuple[int, ...]:
        if x.dim() not in (2, 4) or x.shape[1] != self.features:
            raise InputError(
                f"x must have shape [B, {self.features}] or [B, {self.features}, H, W], got {tuple(x.shape)}"
            )
        return (1, self.features) + (1,) * (x.dim() - 2)

    @torch.no_grad()
    def _initialize(self, x: torch.Tensor) -> None:
        dims = [0] + list(range(2, x.dim()))
        mean = x.mean(dims)
        std = x.std(dims) if x.numel() // self.features > 1 else torch.ones_like(mean)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + self.eps))
        self.initialized.fill_(True)

    def _spatial(self, x: torch.Tensor) -> int:
        return x[0, 0].numel()

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shape = self._shape(x)
        if self.training and not bool(self.initialized):
            self._initialize(x)
        z = (x + self.bias.view(shape)) * torch.exp(self.log_scale.view(shape))
        return z, (self._spatial(x) * self.log_scale.sum()).expand(x.shape[0])

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shape = self._shape(z)
        x = z * torch.exp(-self.log_scale.view(shape)) - self.bias.view(shape)
        return x, -(self._spatial(z) * self.log_scale.sum()).expand(z.shape[0])
