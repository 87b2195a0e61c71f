"""Seeding without side effects: a seeded fit runs on its own copies of the global random streams.

Python's ``random``, NumPy's legacy global generator and torch's default generators (CPU and CUDA) are
the streams that models, Pyro and DataLoader workers draw from. :func:`isolated_rng` saves them, seeds
them for the duration of a block and puts the saved states back afterwards, so code around a fit sees
the global generators exactly as it left them (``torch.random.fork_rng`` does the same for torch alone).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ...errors import InputError

#: seeds are accepted in [0, MAX_SEED]: the range torch.manual_seed takes without wrapping
MAX_SEED = 2**63 - 1


def check_seed(seed: Any, name: str = "seed") -> int:
    """Check that ``seed`` is an integer in [0, 2**63 - 1] and return it as an ``int``.

    Arguments:
        seed: the value to check (bools are refused).
        name: the argument name for the error message.

    Returns:
        The seed as a Python ``int``; anything else raises :class:`~bayesdl.errors.InputError`.

    Example:
        >>> check_seed(3)
        3
        >>> check_seed(-1)
        Traceback (most recent call last):
        ...
        bayesdl.errors.InputError: seed must be an integer in [0, 2**63 - 1], got -1
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise InputError(f"{name} must be an integer in [0, 2**63 - 1], got {seed!r}")
    return int(seed)


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy, torch (all devices) and Pyro from one integer.

    This replaces the global random states; library code uses :func:`isolated_rng` instead, and scripts
    call this once at the top.

    Arguments:
        seed: an integer in [0, 2**63 - 1]; NumPy receives it modulo 2**32.

    Returns:
        None; the global random states are replaced.

    Example:
        >>> seed_everything(3); a = torch.rand(2)
        >>> seed_everything(3); torch.equal(a, torch.rand(2))
        True
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # Pyro draws from these three generators: it has none of its own


def global_rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's and torch's global generators (CUDA too, when initialised).

    Returns:
        A dict of tensors and lists (savable with :func:`bayesdl.io.save_state`) for :func:`set_global_rng_state`.

    Example:
        >>> state = global_rng_state(); a = torch.rand(1)
        >>> set_global_rng_state(state); torch.equal(a, torch.rand(1))
        True
    """
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [
            np_state[0],
            torch.from_numpy(np_state[1].astype(np.int64)),
            int(np_state[2]),
            int(np_state[3]),
            float(np_state[4]),
        ],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_global_rng_state(state: dict[str, Any]) -> None:
    """Put back states taken by :func:`global_rng_state`.

    Arguments:
        state: the dict :func:`global_rng_state` returned (possibly after a save/load round trip).

    Example:
        >>> state = global_rng_state(); a = random.random()
        >>> set_global_rng_state(state); a == random.random()
        True
    """
    torch.set_rng_state(state["torch"].cpu())
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.cpu().numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def fresh_seed() -> int:
    """One seed drawn from torch's global generator, as a ``DataLoader`` without a generator draws its base seed.

    A run given ``seed=None`` uses this: ``torch.manual_seed(k)`` earlier in the program makes it
    reproducible, and two runs in a row differ. It advances torch's global generator by one draw and
    leaves Python's and NumPy's untouched.

    Returns:
        An integer in [0, 2**63 - 1].

    Example:
        >>> _ = torch.manual_seed(1); a = fresh_seed()
        >>> _ = torch.manual_seed(1); a == fresh_seed() != fresh_seed()
        True
    """
    return int(torch.randint(0, MAX_SEED, (), dtype=torch.int64))


@contextlib.contextmanager
def isolated_rng(seed: int, cuda_devices: Sequence[int | torch.device] = ()) -> Iterator[None]:
    """Seed the global generators with ``seed`` inside the block and restore their previous states after it.

    Arguments:
        seed: the seed for Python, NumPy, torch and Pyro inside the block.
        cuda_devices: CUDA devices whose generators are forked too (those the block draws on).

    Example:
        >>> before = torch.get_rng_state()
        >>> with isolated_rng(0):
        ...     a = torch.rand(1)
        >>> with isolated_rng(0):
        ...     b = torch.rand(1)
        >>> torch.equal(a, b), torch.equal(before, torch.get_rng_state())
        (True, True)
    """
    saved = global_rng_state()
    with torch.random.fork_rng(devices=list(cuda_devices), enabled=True):
        try:
            seed_everything(seed)
            yield
        finally:
            set_global_rng_state(saved)
