"""Seeded blocks of random draws that leave the caller's generators as they were."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from .errors import InputError

__all__ = ["make_generator", "seed_from", "seeded_rng"]


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


def seed_from(seed: int | None, generator: torch.Generator | None) -> int | None:
    """The seed for a :func:`seeded_rng` block from either a seed or a generator (one draw from it), else None.

    Lets a method that draws through torch's global generator (dropout, Bayesian layers) accept the
    ``seed=`` / ``generator=`` pair of every ``sample`` and ``predictive_draws`` call.

    Arguments:
        seed: an integer seed, or None.
        generator: a torch generator to take one draw from when ``seed`` is None.

    Example:
        >>> seed_from(3, None), seed_from(None, None)
        (3, None)
        >>> seed_from(None, torch.Generator().manual_seed(0)) == seed_from(None, torch.Generator().manual_seed(0))
        True
    """
    if seed is not None:
        if generator is not None:
            raise InputError("give seed or generator, not both")
        return int(seed)
    if generator is None:
        return None
    return int(torch.randint(0, 2**62, (), generator=generator, device=generator.device))


def make_generator(
    seed: int | None,
    generator: torch.Generator | None,
    device: torch.device | str = "cpu",
    *,
    fresh: bool = False,
) -> torch.Generator | None:
    """A torch generator on ``device`` seeded by ``seed``, or ``generator`` itself, or None (the global one).

    With ``fresh=True`` and neither given, a new generator seeded by one draw from torch's global generator
    (so ``torch.manual_seed`` earlier in the program makes it reproducible, and two calls differ).

    Arguments:
        seed: an integer seed, or None.
        generator: a generator to use as it is (then ``seed`` must be None).
        device: where a new generator lives (the device the draws are made on).
        fresh: return a freshly seeded generator instead of None when neither is given.

    Example:
        >>> a = make_generator(0, None); b = make_generator(0, None)
        >>> torch.equal(torch.rand(2, generator=a), torch.rand(2, generator=b)), make_generator(None, None)
        (True, None)
    """
    if generator is not None:
        if seed is not None:
            raise InputError("give seed or generator, not both")
        return generator
    if seed is None:
        if not fresh:
            return None
        seed = int(torch.randint(0, 2**62, ()))
    return torch.Generator(device=device).manual_seed(int(seed))
