"""Volume-preserving reshapes for multi-scale image flows: squeeze, flatten, and factor-out.

* Squeeze (Dinh et al. 2016, arXiv:1605.08803, sec. 3.6): [B, C, H, W] -> [B, 4C, H/2, W/2] by
  moving each 2x2 block of pixels into channels.
* Factor-out: half of the channels leave the flow at this scale (they are modelled directly by the
  standard normal base), the other half go through ``inner`` (the finer scales). The output is the
  flat concatenation [factored-out | inner output], so a whole multi-scale flow maps an image to one
  vector with a standard normal base.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...errors import InputError
from .base import Transform


class Squeeze(Transform):
    """Space-to-depth: [B, C, H, W] -> [B, 4C, H/2, W/2]; H and W must be even; log|det| = 0.

    Example:
        >>> Squeeze()(torch.zeros(1, 1, 4, 4))[0].shape
        torch.Size([1, 4, 2, 2])

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), arXiv:1605.08803.
    """

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or x.shape[2] % 2 or x.shape[3] % 2:
            raise InputError(
                f"Squeeze needs images [B, C, H, W] with even H and W, got shape {tuple(x.shape)}"
            )
        b, c, h, w = x.shape
        z = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)
        return z, x.new_zeros(b)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if z.dim() != 4 or z.shape[1] % 4:
            raise InputError(f"Squeeze.inverse needs [B, 4C, H, W], got shape {tuple(z.shape)}")
        b, c4, h, w = z.shape
        c = c4 // 4
        x = z.reshape(b, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c, 2 * h, 2 * w)
        return x, z.new_zeros(b)


class Flatten(Transform):
    """[B, C, H, W] <-> [B, C*H*W]; log|det| = 0.

    Arguments:
        shape: the shape of one example on the image side, e.g. (C, H, W); inputs must match it.

    Example:
        >>> Flatten((1, 2, 2))(torch.zeros(3, 1, 2, 2))[0].shape
        torch.Size([3, 4])
        >>> x = torch.arange(8.0).reshape(2, 1, 2, 2)
        >>> torch.equal(Flatten((1, 2, 2)).inverse(Flatten((1, 2, 2))(x)[0])[0], x)
        True
    """

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != self.shape:
            raise InputError(
                f"x must have shape [B, {', '.join(map(str, self.shape))}], got {tuple(x.shape)}"
            )
        return x.reshape(x.shape[0], -1), x.new_zeros(x.shape[0])

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return z.reshape(z.shape[0], *self.shape), z.new_zeros(z.shape[0])


class FactorOut(Transform):
    """Keep the first half of the channels as latent variables and pass the rest through ``inner``.

    Arguments:
        shape: the input shape (C, H, W) at this scale.
        inner: a transform from [B, C - C//2, H, W] to a flat [B, *]; it models the finer scales.

    Example:
        >>> t = FactorOut((2, 2, 2), Flatten((1, 2, 2)))
        >>> x = torch.randn(3, 2, 2, 2)
        >>> z, _ = t(x)
        >>> z.shape, bool(torch.equal(t.inverse(z)[0], x))
        (torch.Size([3, 8]), True)

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), arXiv:1605.08803, sec. 3.6; Kingma & Dhariwal (2018), arXiv:1807.03039.
    """

    def __init__(self, shape: Sequence[int], inner: Transform) -> None:
        super().__init__()
        c, h, w = (int(s) for s in shape)
        if c < 2:
            raise InputError(f"FactorOut needs at least 2 channels, got shape {tuple(shape)}")
        self.shape = (c, h, w)
        self.kept = c // 2
        self.inner = inner

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != self.shape:
            raise InputError(
                f"x must have shape [B, {', '.join(map(str, self.shape))}], got {tuple(x.shape)}"
            )
        out, rest = x[:, : self.kept], x[:, self.kept :]
        z_rest, ld = self.inner(rest, context)
        return torch.cat([out.reshape(x.shape[0], -1), z_rest], dim=1), ld

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        c, h, w = self.shape
        n_out = self.kept * h * w
        out = z[:, :n_out].reshape(z.shape[0], self.kept, h, w)
        rest, ld = self.inner.inverse(z[:, n_out:], context)
        return torch.cat([out, rest], dim=1), ld
