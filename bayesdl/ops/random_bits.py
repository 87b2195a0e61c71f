"""Random bits for Bernoulli sampling: float32-resolution uniforms from half a 64-bit draw each.

The Gibbs samplers of the RBM (and its AIS path) draw millions of binary states per epoch, so the cost of
one uniform matters; these helpers draw them faster than ``torch.rand`` on a CPU with the same 24-bit
resolution (half a 64-bit draw per uniform).
"""

from __future__ import annotations

import math
from typing import Any

import torch

UNIFORM_BITS = 24  # the resolution of a float32 uniform (torch.rand uses 24 random bits too)
_UNIFORM_SCALE = float(2**UNIFORM_BITS)


def uniform_bits(
    shape: tuple[int, ...] | torch.Size, generator: torch.Generator | None = None, device: Any = None
) -> torch.Tensor:
    """Integers k drawn uniformly from {0, ..., 2^24 - 1} (int32), so that k / 2^24 is a float32-resolution uniform.

    The bits come from 64-bit draws (torch's ``random64``: 63 random bits per word); each word is split into
    its two 32-bit halves and 24 bits of each half are kept, so one 64-bit draw gives two independent
    uniforms. This is exact to float32 resolution, like ``torch.rand`` (which keeps 24 bits of one 32-bit
    draw per value), and cheaper per value on CPU. Keeping only 16 bits per uniform would be
    cheaper still but would bias every Bernoulli probability by up to 2^-16 = 1.5e-5, so it is not done.

    Arguments:
        shape: the shape of the result.
        generator: the random source (None: torch's global generator).
        device: the device of the result.

    Returns:
        an int32 tensor of the given shape with values in [0, 2^24).

    Example:
        >>> k = uniform_bits((3, 4), torch.Generator().manual_seed(0))
        >>> k.dtype, bool(((k >= 0) & (k < 2**24)).all())
        (torch.int32, True)
    """
    count = math.prod(shape)
    words = torch.empty((count + 1) // 2, dtype=torch.int64, device=device).random_(generator=generator)
    return words.view(torch.int32)[:count].view(shape).bitwise_and_(2**UNIFORM_BITS - 1)


def uniform(
    shape: tuple[int, ...] | torch.Size, generator: torch.Generator | None = None, device: Any = None
) -> torch.Tensor:
    """The float32 uniforms u = k / 2^24 on [0, 1) for k = :func:`uniform_bits` (the same draws, as values).

    The RBM samplers draw v_i = 1 exactly when u_i < p_i; this function gives those u, so that a reference
    implementation (or another library) can be handed the same draws.

    Arguments:
        shape: the shape of the result.
        generator: the random source (None: torch's global generator).
        device: the device of the result.

    Returns:
        a float32 tensor of the given shape with values k / 2^24 in [0, 1).

    Example:
        >>> u = uniform((2, 3), torch.Generator().manual_seed(0))
        >>> u.dtype, bool(((u >= 0) & (u < 1)).all())
        (torch.float32, True)
    """
    return uniform_bits(shape, generator, device).to(torch.float32).mul_(1.0 / _UNIFORM_SCALE)


def bernoulli(
    p: torch.Tensor, generator: torch.Generator | None, out: torch.Tensor | None = None
) -> torch.Tensor:
    """Draw 0/1 values with probabilities p: 1 where u < p for u = :func:`uniform` (compared as k < 2^24 p, exactly).

    With ``out`` the draws are written there (any dtype, e.g. the bfloat16 rows of a stacked batch).
    The comparison runs in place on the float copy of k (k < 2^24 is exact in float32), which is
    several times faster on CPU than writing a boolean result.
    """
    dtype = torch.promote_types(p.dtype, torch.float32)
    draws = uniform_bits(p.shape, generator, p.device).to(dtype).lt_(p.to(dtype) * _UNIFORM_SCALE)
    if out is not None:
        return out.copy_(draws)
    return draws.to(p.dtype)
