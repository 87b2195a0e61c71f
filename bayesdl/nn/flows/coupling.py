"""Affine coupling (RealNVP; Dinh, Sohl-Dickstein & Bengio 2016, arXiv:1605.08803, eq. 4-9).

With a binary mask b: z = b*x + (1-b) * (x * exp(s(b*x)) + t(b*x)), where s and t come from a
conditioner network of the masked input (and an optional context). The Jacobian is triangular, so
log|det dz/dx| = sum (1-b) * s. The log-scale is bounded, s = bound * tanh(raw / bound), so that a
large network output cannot overflow exp(s) (a soft version of RealNVP's tanh-scaled output).
"""

from __future__ import annotations

import torch
from torch import nn

from ...validation import check_tensor
from .base import Transform, sum_except_batch


class AffineCoupling(Transform):
    """Affine coupling with a fixed mask (vectors [B, D] or images [B, C, H, W]).

    Arguments:
        mask: a 0/1 tensor of the event shape; ones are passed through and condition the rest.
        conditioner: a module ``(masked_x, context, mask=mask) -> (shift, raw_log_scale)`` of the event shape
            (:class:`MLPConditioner` or :class:`ConvConditioner`).
        scale_bound: the bound B of the log-scale, s = B tanh(raw / B).

    Example:
        >>> from bayesdl.nn.flows import MLPConditioner, alternating_mask
        >>> layer = AffineCoupling(alternating_mask(4), MLPConditioner(4, [16]))
        >>> x = torch.randn(3, 4)
        >>> z, ld = layer(x)
        >>> bool(torch.allclose(layer.inverse(z)[0], x))
        True

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), "Density estimation using Real NVP", arXiv:1605.08803.
    """

    def __init__(self, mask: torch.Tensor, conditioner: nn.Module, scale_bound: float = 3.0) -> None:
        super().__init__()
        self.register_buffer("mask", mask.float().clone())
        self.conditioner = conditioner
        self.scale_bound = float(scale_bound)

    def _shift_scale(
        self, x: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor(x, "x", shape=[None, *self.mask.shape], finite=False)
        masked = x * self.mask
        shift, raw = self.conditioner(masked, context, mask=self.mask)
        log_scale = self.scale_bound * torch.tanh(raw / self.scale_bound)
        free = 1.0 - self.mask
        return shift * free, log_scale * free

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._shift_scale(x, context)
        z = x * torch.exp(log_scale) + shift
        return z, sum_except_batch(log_scale)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = self._shift_scale(z, context)  # the masked part of z equals that of x
        x = (z - shift) * torch.exp(-log_scale)
        return x, -sum_except_batch(log_scale)
