"""Masked convolutions and the gated two-stack layer of the gated PixelCNN.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu (2016), "Conditional Image
Generation with PixelCNN Decoders", arXiv:1606.05328; mask types A and B from van den Oord,
Kalchbrenner & Kavukcuoglu (2016), "Pixel Recurrent Neural Networks", arXiv:1601.06759.

Pixels are generated in raster order (row by row, left to right). A masked convolution zeroes the
kernel taps that would let the output at pixel (i, j) see pixels that come at or after it:

* **type A** (the first layer) excludes the centre tap, so output (i, j) never sees input (i, j);
* **type B** (later layers) keeps the centre tap: feature (i, j) of a layer may use feature (i, j)
  of the layer below, which itself saw only earlier pixels.

A single masked k x k convolution stack has a *blind spot* (pixels above and to the right that
are never reached). The gated PixelCNN removes it with two stacks:

* the **vertical stack** sees every pixel in the rows strictly above (a k x k kernel restricted to
  the rows above the centre, plus the centre row for type B, since the vertical features of row i
  themselves only see rows < i); its receptive field after l layers is the full rectangle of rows
  i-l*r .. i-1 and columns j-l*r .. j+l*r (r = k // 2);
* the **horizontal stack** sees the pixels to the LEFT in the current row (a 1 x k kernel restricted
  to columns < j for type A, <= j for type B), and receives the vertical features of the same
  position through a 1 x 1 convolution.

Each layer uses the gated activation tanh(W_f * v) * sigmoid(W_g * v), optionally with a
conditioning vector added to both halves (class-conditional PixelCNN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..validation import check_choice, check_positive_int

MASK_TYPES = ("A", "B")
STACKS = ("vertical", "horizontal")


def causal_conv_mask(kernel_size: int, stack: str, mask_type: str) -> torch.Tensor:
    """The 0/1 kernel mask [k, k] of one stack of the gated PixelCNN (raster order).

    Arguments:
        kernel_size: k, an odd integer >= 1 (the horizontal mask uses only the centre row).
        stack: "vertical" (rows above the centre; type B adds the centre row) or "horizontal"
            (the centre row, columns left of the centre; type B adds the centre).
        mask_type: "A" (exclude the centre pixel) or "B" (include it).

    Returns:
        A float tensor [k, k] of zeros and ones.

    Example:
        >>> causal_conv_mask(3, "horizontal", "A")
        tensor([[0., 0., 0.],
                [1., 0., 0.],
                [0., 0., 0.]])

    References:
        van den Oord et al. (2016), arXiv:1606.05328 and arXiv:1601.06759.
    """
    check_positive_int(kernel_size, "kernel_size")
    if kernel_size % 2 == 0:
        raise InputError(f"kernel_size must be odd, got {kernel_size}")
    check_choice(stack, "stack", STACKS)
    check_choice(mask_type, "mask_type", MASK_TYPES)
    c = kernel_size // 2
    mask = torch.zeros(
        kernel_size, kernel_size, device="cpu"
    )  # host-side; stored in a buffer that follows .to()
    if stack == "vertical":
        mask[:c, :] = 1.0
        if mask_type == "B":
            mask[c, :] = 1.0
    else:
        mask[c, :c] = 1.0
        if mask_type == "B":
            mask[c, c] = 1.0
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded k x k convolution whose kernel is multiplied by a fixed spatial mask.

    The mask [k, k] (see :func:`causal_conv_mask`) is a buffer, so it follows ``.to(device)`` and
    is saved. The same spatial mask is applied to every (output, input) channel pair: channels of
    one pixel are treated as generated together. The forward pass convolves with the bounding box
    of the mask's non-zero taps only (with matching asymmetric padding), which gives the same output
    as the full masked k x k kernel at about half the cost.

    Arguments:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: k (odd).
        stack: "vertical" or "horizontal".
        mask_type: "A" or "B".

    Example:
        >>> conv = MaskedConv2d(1, 2, 3, "horizontal", "A")
        >>> conv(torch.zeros(1, 1, 4, 4)).shape
        torch.Size([1, 2, 4, 4])

    References:
        van den Oord et al. (2016), arXiv:1606.05328.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stack: str, mask_type: str
    ) -> None:
        mask = causal_conv_mask(kernel_size, stack, mask_type)
        if not bool(mask.any()):
            raise InputError(
                f"a {kernel_size}x{kernel_size} {stack} type-{mask_type} mask has no taps; use kernel_size >= 3"
            )
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.stack = stack
        self.mask_type = mask_type
        self.register_buffer("mask", mask.to(self.weight.device))
        rows = mask.any(dim=1).nonzero().flatten()
        cols = mask.any(dim=0).nonzero().flatten()
        self._box = (int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1)
        c = kernel_size // 2
        r0, r1, c0, c1 = self._box
        self._padding = (c - c0, c1 - 1 - c, c - r0, r1 - 1 - c)  # left, right, top, bottom (negative crops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r0, r1, c0, c1 = self._box
        weight = (self.weight * self.mask)[:, :, r0:r1, c0:c1]
        return F.conv2d(F.pad(x, self._padding), weight, self.bias)


class GatedPixelCNNLayer(nn.Module):
    """One gated layer with a vertical and a horizontal stack (no blind spot).

    With v, h the incoming vertical and horizontal features and c an optional conditioning vector:

        v' = tanh(Wf_v * v + Vf_v c) . sigmoid(Wg_v * v + Vg_v c)
        s  = W_h * h + W_vh (Wv * v)          (W_vh a 1 x 1 convolution)
        h' = W_o (tanh(s_f + Vf_h c) . sigmoid(s_g + Vg_h c)) [+ h, the residual, for type B]

    Arguments:
        in_channels: channels of v and h coming in.
        channels: channels F of v' and h' going out (a type-B layer needs in_channels == channels).
        kernel_size: k (odd).
        mask_type: "A" for the first layer (which reads the image), "B" otherwise.
        condition_size: width of the conditioning vector (0 for none).

    Example:
        >>> layer = GatedPixelCNNLayer(1, 4, 3, "A")
        >>> x = torch.zeros(2, 1, 5, 5)
        >>> [t.shape[1] for t in layer(x, x)]
        [4, 4]

    References:
        van den Oord et al. (2016), arXiv:1606.05328, section 2.2 and figure 2.
    """

    def __init__(
        self, in_channels: int, channels: int, kernel_size: int, mask_type: str, condition_size: int = 0
    ) -> None:
        super().__init__()
        check_choice(mask_type, "mask_type", MASK_TYPES)
        if mask_type == "B" and in_channels != channels:
            raise InputError(
                f"a type-B layer keeps its width: in_channels {in_channels} != channels {channels}"
            )
        self.mask_type = mask_type
        self.vertical = MaskedConv2d(in_channels, 2 * channels, kernel_size, "vertical", mask_type)
        self.horizontal = MaskedConv2d(in_channels, 2 * channels, kernel_size, "horizontal", mask_type)
        self.vertical_to_horizontal = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.horizontal_out = nn.Conv2d(channels, channels, 1)
        self.condition = nn.Linear(condition_size, 4 * channels, bias=False) if condition_size > 0 else None

    @staticmethod
    def _gate(z: torch.Tensor) -> torch.Tensor:
        f, g = z.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)

    def _condition_terms(
        self, condition: torch.Tensor | None
    ) -> tuple[torch.Tensor | float, torch.Tensor | float]:
        if self.condition is None:
            return 0.0, 0.0
        if condition is None:
            raise InputError("this layer is conditional: pass a conditioning vector")
        cv, ch = self.condition(condition)[:, :, None, None].chunk(2, dim=1)
        return cv, ch

    def vertical_step(
        self, v: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The vertical stack alone: returns (the pre-gate convolution W_v * v, the gated output v')."""
        v_pre = self.vertical(v)
        return v_pre, self._gate(v_pre + self._condition_terms(condition)[0])

    def horizontal_step(
        self, h: torch.Tensor, v_pre: torch.Tensor, condition: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The horizontal stack given the vertical pre-gate features of the same positions: returns h'."""
        h_pre = self.horizontal(h) + self.vertical_to_horizontal(v_pre) + self._condition_terms(condition)[1]
        h_out = self.horizontal_out(self._gate(h_pre))
        return h_out + h if self.mask_type == "B" else h_out

    def forward(
        self, v: torch.Tensor, h: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        v_pre, v_out = self.vertical_step(v, condition)
        return v_out, self.horizontal_step(h, v_pre, condition)
