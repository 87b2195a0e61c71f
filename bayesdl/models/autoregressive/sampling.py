"""Helpers shared by the samplers of the autoregressive models: seeded generators and completion masks."""

from __future__ import annotations

import torch

from ...errors import InputError
from ...randomness import make_generator as shared_make_generator
from ...validation import check_positive_int, check_tensor


def make_generator(
    seed: int | None, generator: torch.Generator | None, device: torch.device
) -> torch.Generator:
    """The random source of a sampler: ``generator`` if given, else a new one seeded with ``seed``.

    With neither, the seed is drawn from torch's global generator, so ``torch.manual_seed`` (or
    :func:`bayesdl.inference.seed_everything`) makes the draw reproducible.

    Example:
        >>> g = make_generator(3, None, torch.device("cpu"))
        >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=make_generator(3, None, torch.device("cpu"))).item()
        True
    """
    return shared_make_generator(seed, generator, device, fresh=True)


def check_num_samples(n: object) -> int:
    """Check the number of samples requested."""
    return check_positive_int(n, "num_samples")


def completion_inputs(
    x_partial: torch.Tensor, mask: torch.Tensor, data_shape: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a completion request and return ``(x, observed)``.

    Arguments:
        x_partial: data [B, *data_shape]; entries where ``mask`` is False are ignored (they may be NaN).
        mask: True (or 1) where x_partial is observed; the shape of x_partial or broadcastable to it.
        data_shape: the shape of one example.

    Returns:
        ``x`` (a float copy with the missing entries set to 0) and ``observed`` (bool, the shape of x).
    """
    check_tensor(x_partial, "x_partial", finite=False)
    if tuple(x_partial.shape[1:]) != tuple(data_shape):
        raise InputError(
            f"x_partial must have shape [B, {', '.join(map(str, data_shape))}], got {list(x_partial.shape)}"
        )
    check_tensor(mask, "mask", finite=False)
    if mask.dtype != torch.bool:
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise InputError("mask must be boolean or 0/1 (1 = observed)")
        mask = mask != 0
    try:
        observed = torch.broadcast_to(mask.to(x_partial.device), x_partial.shape)
    except RuntimeError as err:
        raise InputError(
            f"mask of shape {list(mask.shape)} does not broadcast to x_partial {list(x_partial.shape)}"
        ) from err
    x = torch.where(
        observed, x_partial, torch.zeros((), dtype=x_partial.dtype, device=x_partial.device)
    ).float()
    if not bool(torch.isfinite(x).all()):
        raise InputError("x_partial has NaN or infinite values at observed positions")
    return x, observed.clone()
