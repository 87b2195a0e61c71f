"""Training: the :class:`Trainer` loop and its parts, one concept per module.

* :mod:`.trainer`: the loop (optimiser steps, validation, early stopping, checkpoints, resume);
* :mod:`.devices`: :func:`resolve_device`;
* :mod:`.seeding`: seeding that leaves the global random streams as it found them;
* :mod:`.history`: :class:`History`, the per-epoch record;
* :mod:`.callbacks`: :class:`Callback`, the hooks the loop calls;
* :mod:`.optimizers`: optimizers and schedules by name.
"""

from .callbacks import Callback
from .devices import resolve_device
from .history import History
from .optimizers import OPTIMIZERS, make_optimizer, make_scheduler
from .seeding import (
    check_seed,
    fresh_seed,
    global_rng_state,
    isolated_rng,
    seed_everything,
    set_global_rng_state,
)
from .trainer import PRECISIONS, Trainer

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "Callback",
    "History",
    "Trainer",
    "check_seed",
    "fresh_seed",
    "global_rng_state",
    "isolated_rng",
    "make_optimizer",
    "make_scheduler",
    "resolve_device",
    "seed_everything",
    "set_global_rng_state",
]
