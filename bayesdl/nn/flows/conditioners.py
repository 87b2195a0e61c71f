"""Networks that produce the shift and log-scale of a coupling layer from the unchanged half (and a context).

The last layer starts at zero, so every coupling layer starts as the identity map (a common stabilising
choice; Kingma & Dhariwal 2018, arXiv:1807.03039, sec. 3.3). A context vector [B, C] is projected and
added to the first hidden layer, which makes the coupling conditional.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...errors import InputError


def _add_context(h: torch.Tensor, projection: nn.Linear | None, context: torch.Tensor | None) -> torch.Tensor:
    if projection is None:
        return h
    if context is None:
        raise InputError(f"this transform is conditional: pass a context of width {projection.in_features}")
    c = projection(context)
    return h + (c if h.dim() == 2 else c[:, :, None, None])


class MLPConditioner(nn.Module):
    """x [B, D] (masked) and optional context [B, C] -> (shift [B, D], raw log-scale [B, D]).

    An MLP with ReLUs; the context is projected and added to the first hidden layer. Both outputs are
    zero at initialisation, so the coupling layer starts as the identity.

    Arguments:
        features: D, the width of the input and of each output.
        hidden_sizes: the hidden widths (at least one layer).
        context_size: C, the width of a conditioning vector (0: unconditional).

    Example:
        >>> net = MLPConditioner(3, [8])
        >>> [t.shape for t in net(torch.zeros(2, 3))]
        [torch.Size([2, 3]), torch.Size([2, 3])]
        >>> shift, scale = MLPConditioner(3, [8], context_size=2)(torch.randn(4, 3), torch.randn(4, 2))
        >>> bool((shift == 0).all() and (scale == 0).all())  # zero-initialised last layer
        True

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), Density estimation using Real NVP, arXiv:1605.08803.
    """

    def __init__(self, features: int, hidden_sizes: Sequence[int], context_size: int = 0) -> None:
        super().__init__()
        if len(hidden_sizes) == 0 or any(int(h) < 1 for h in hidden_sizes):
            raise InputError(
                f"hidden_sizes must list at least one positive layer width, got {list(hidden_sizes)}"
            )
        sizes = [features, *hidden_sizes]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], 2 * features)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.context = nn.Linear(context_size, sizes[1], bias=False) if context_size > 0 else None

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``mask`` is accepted for interface parity with :class:`ConvConditioner` and unused."""
        h = _add_context(self.hidden[0](x), self.context, context)
        h = torch.relu(h)
        for layer in self.hidden[1:]:
            h = torch.relu(layer(h))
        shift, scale = self.out(h).chunk(2, dim=1)
        return shift, scale


class ConvConditioner(nn.Module):
    """x [B, C, H, W] (masked) and optional context [B, K] -> (shift, raw log-scale), each [B, C, H, W].

    A 3x3 conv, a 1x1 conv and a 3x3 conv with ReLUs (the coupling network of Glow), with the mask
    appended as an extra input channel so the network knows which pixels are visible. ``forward`` takes
    the mask [C', H, W] (its first channel is used) as a keyword argument.

    Arguments:
        channels: C, the channels of the input and of each output.
        hidden_channels: the width of the hidden convolutions.
        context_size: K, the width of a conditioning vector added to the first hidden layer (0: none).

    Example:
        >>> net = ConvConditioner(2, 8)
        >>> net(torch.zeros(1, 2, 4, 4), mask=torch.ones(2, 4, 4))[0].shape
        torch.Size([1, 2, 4, 4])

    References:
        Kingma & Dhariwal (2018), Glow: Generative Flow with Invertible 1x1 Convolutions, arXiv:1807.03039.
    """

    def __init__(self, channels: int, hidden_channels: int, context_size: int = 0) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(channels + 1, hidden_channels, 3, padding=1)
        self.conv_mid = nn.Conv2d(hidden_channels, hidden_channels, 1)
        self.conv_out = nn.Conv2d(hidden_channels, 2 * channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        self.context = nn.Linear(context_size, hidden_channels, bias=False) if context_size > 0 else None

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, *, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        m = mask[:1].expand(x.shape[0], 1, *x.shape[2:])
        h = _add_context(self.conv_in(torch.cat([x, m], dim=1)), self.context, context)
        h = torch.relu(self.conv_mid(torch.relu(h)))
        shift, scale = self.conv_out(h).chunk(2, dim=1)
        return shift, scale
