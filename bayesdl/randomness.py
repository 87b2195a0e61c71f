"""Seeded blocks of random draws that leave the caller's generators as they were."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["seeded_rng"]


@contextlib.contextmanager
def seeded_rng(seed: int | None) -> Iterator[None]:
    """Run the block with torch's CPU generator seeded by ``seed`` and restore its previous state afterwards.

    With ``seed=None`` the block uses (and advances) the global generator as usual, so the same code serves
    both the reproducible and the fresh-draws case.

    Arguments:
        seed: the seed of the block, or None for the global generator's current state.

    Example:
        >>> with seeded_rng(0):
        ...     a = torch.rand(2)
        >>> with seeded_rng(0):
        ...     b = torch.rand(2)
        >>> torch.equal(a, b)
        True
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
