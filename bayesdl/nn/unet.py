"""A small U-Net denoiser for images: residual blocks with group norm and time conditioning,
self-attention at the low resolutions, and skip connections between matching resolutions."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..errors import InputError
from ..io import serializable
from ..validation import check_positive_int, check_tensor
from .label_embedding import LabelEmbedding, add_label_embedding
from .time_embedding import SinusoidalTimeEmbedding


def _norm(channels: int, groups: int) -> torch.nn.GroupNorm:
    return torch.nn.GroupNorm(min(groups, channels) if channels % min(groups, channels) == 0 else 1, channels)


class ResidualBlock(torch.nn.Module):
    """h = conv(silu(GN(x))) + W emb(t); out = skip(x) + conv(dropout(silu(GN(h))))."""

    def __init__(
        self, in_channels: int, out_channels: int, time_dim: int, groups: int, dropout: float
    ) -> None:
        super().__init__()
        self.norm1 = _norm(in_channels, groups)
        self.conv1 = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = torch.nn.Linear(time_dim, out_channels)
        self.norm2 = _norm(out_channels, groups)
        self.dropout = torch.nn.Dropout(dropout)
        self.conv2 = torch.nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = (
            torch.nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else torch.nn.Identity()
        )

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.time(temb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class SelfAttention2d(torch.nn.Module):
    """Single-head self-attention over the pixels of a feature map, with a residual connection."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.norm = _norm(channels, groups)
        self.qkv = torch.nn.Conv2d(channels, 3 * channels, 1)
        self.proj = torch.nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return x + self.proj(out.transpose(1, 2).reshape(b, c, h, w))


@serializable
class UNet(torch.nn.Module):
    """A small U-Net eps_theta(x_t, t) for images [B, C, H, W].

    Each resolution level has ``num_res_blocks`` residual blocks (group norm, SiLU, 3x3 convolutions,
    the time embedding added after the first convolution); levels listed in ``attention_levels`` also
    apply self-attention after each block; the bottleneck is residual block, attention, residual block.
    Downsampling is a stride-2 convolution, upsampling is nearest-neighbour to the skip's size plus a
    convolution, so odd sizes (7x7) work. The output convolution starts at zero.

    Arguments:
        in_channels: C of the images.
        base_channels: the width of the first level.
        channel_mults: the width of each level as a multiple of ``base_channels``.
        num_res_blocks: residual blocks per level on the way down.
        attention_levels: the levels (0 = full resolution) with self-attention.
        out_channels: the output channels (default C; 2C for a DDPM with learned variances).
        groups: the number of groups of group norm.
        dropout: dropout inside the residual blocks.
        num_classes: K > 0 adds a class embedding (K labels plus a null label K, see
            :class:`~bayesdl.nn.label_embedding.LabelEmbedding`) to the time embedding, for a
            :class:`~bayesdl.models.diffusion.ConditionalDDPM`; 0 (default) for an unconditional denoiser.

    Example:
        >>> net = UNet(1, base_channels=8, channel_mults=[1, 2], attention_levels=[1])
        >>> net(torch.randn(2, 1, 8, 8), torch.tensor([1.0, 5.0])).shape
        torch.Size([2, 1, 8, 8])

    References:
        Ronneberger, Fischer & Brox (2015), U-Net, arXiv:1505.04597;
        Ho, Jain & Abbeel (2020), arXiv:2006.11239 (the diffusion variant with group norm and attention).
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_channels: int = 32,
        channel_mults: Sequence[int] = (1, 2, 2),
        num_res_blocks: int = 1,
        attention_levels: Sequence[int] = (2,),
        out_channels: int | None = None,
        groups: int = 8,
        dropout: float = 0.0,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        check_positive_int(base_channels, "base_channels")
        check_positive_int(num_res_blocks, "num_res_blocks")
        if not channel_mults:
            raise InputError("channel_mults must list at least one level")
        mults = [check_positive_int(m, "channel_mults entry") for m in channel_mults]
        attention = set(attention_levels)
        if any(a not in range(len(mults)) for a in attention):
            raise InputError(f"attention_levels must be in 0..{len(mults) - 1}, got {sorted(attention)}")
        self.out_channels = (
            in_channels if out_channels is None else check_positive_int(out_channels, "out_channels")
        )
        time_dim = 4 * base_channels
        self.embed = torch.nn.Sequential(
            SinusoidalTimeEmbedding(base_channels),
            torch.nn.Linear(base_channels, time_dim),
            torch.nn.SiLU(),
            torch.nn.Linear(time_dim, time_dim),
        )
        self.labels = LabelEmbedding(num_classes, time_dim) if num_classes else None
        self.num_classes = self.labels.num_classes if self.labels is not None else 0
        self.conv_in = torch.nn.Conv2d(in_channels, base_channels, 3, padding=1)
        self.down = torch.nn.ModuleList()
        skips = [base_channels]
        ch = base_channels
        for level, mult in enumerate(mults):
            for _ in range(num_res_blocks):
                out = base_channels * mult
                self.down.append(self._stage(ch, out, time_dim, groups, dropout, level in attention))
                ch = out
                skips.append(ch)
            if level < len(mults) - 1:
                self.down.append(torch.nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                skips.append(ch)
        self.mid = torch.nn.ModuleList(
            [
                ResidualBlock(ch, ch, time_dim, groups, dropout),
                SelfAttention2d(ch, groups),
                ResidualBlock(ch, ch, time_dim, groups, dropout),
            ]
        )
        self.up = torch.nn.ModuleList()
        for level in reversed(range(len(mults))):
            for _ in range(num_res_blocks + 1):
                out = base_channels * mults[level]
                self.up.append(
                    self._stage(ch + skips.pop(), out, time_dim, groups, dropout, level in attention)
                )
                ch = out
            if level > 0:
                self.up.append(torch.nn.Conv2d(ch, ch, 3, padding=1))
        self.norm_out = _norm(ch, groups)
        self.conv_out = torch.nn.Conv2d(ch, self.out_channels, 3, padding=1)
        torch.nn.init.zeros_(self.conv_out.weight)
        torch.nn.init.zeros_(self.conv_out.bias)

    @staticmethod
    def _stage(
        cin: int, cout: int, time_dim: int, groups: int, dropout: float, attend: bool
    ) -> torch.nn.ModuleList:
        parts = [ResidualBlock(cin, cout, time_dim, groups, dropout)]
        if attend:
            parts.append(SelfAttention2d(cout, groups))
        return torch.nn.ModuleList(parts)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, C, H, W], times t [B] and (class-conditional nets only) labels y [B] in 0..K (K = null)
        -> [B, out_channels, H, W]."""
        check_tensor(x, "x", ndim=4, finite=False)
        if x.shape[1] != self.in_channels:
            raise InputError(f"x must have {self.in_channels} channels, got shape {list(x.shape)}")
        if t.shape != (x.shape[0],):
            raise InputError(f"t must have shape [{x.shape[0]}], got {list(t.shape)}")
        temb = add_label_embedding(self.embed(t), self.labels, y, "UNet")
        h = self.conv_in(x)
        stack = [h]
        for module in self.down:
            if isinstance(module, torch.nn.ModuleList):
                h = module[0](h, temb)
                for extra in module[1:]:
                    h = extra(h)
            else:
                h = module(h)
            stack.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
        for module in self.up:
            if isinstance(module, torch.nn.ModuleList):
                h = module[0](torch.cat([h, stack.pop()], dim=1), temb)
                for extra in module[1:]:
                    h = extra(h)
            else:
                h = module(F.interpolate(h, size=stack[-1].shape[-2:], mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))
