"""Sinusoidal embeddings of a (diffusion) time step, as in the Transformer's position encoding."""

from __future__ import annotations

import math

import torch

from ..io import serializable
from ..validation import check_positive_int


@serializable
class SinusoidalTimeEmbedding(torch.nn.Module):
    """Map a scalar time t to [sin(t w_1), ..., sin(t w_k), cos(t w_1), ..., cos(t w_k)], w_i = max_period^(-(i-1)/k).

    Arguments:
        dim: the embedding width (even, >= 2).
        max_period: the longest period, which sets the lowest frequency.

    Example:
        >>> emb = SinusoidalTimeEmbedding(8)
        >>> emb(torch.tensor([0.0, 10.0])).shape
        torch.Size([2, 8])

    References:
        Vaswani et al. (2017), Attention Is All You Need, arXiv:1706.03762 (the encoding);
        Ho, Jain & Abbeel (2020), arXiv:2006.11239 (its use for diffusion steps).
    """

    def __init__(self, dim: int, max_period: float = 10000.0) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim", minimum=2)
        if dim % 2:
            from ..errors import InputError

            raise InputError(f"dim must be even, got {dim}")
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Embed times t [B] (any real values) as [B, dim]."""
        angles = t.to(self.freqs.dtype).reshape(-1, 1) * self.freqs
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
