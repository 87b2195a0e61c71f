"""Compatibility module: the trainer lives in :mod:`bayesdl.inference.training`, one concept per module.

``from bayesdl.inference.trainer import Trainer, History, Callback, resolve_device, seed_everything`` keeps
working; new code imports from :mod:`bayesdl.inference` or :mod:`bayesdl.inference.training`.
"""

from .training import (
    OPTIMIZERS,
    PRECISIONS,
    Callback,
    History,
    Trainer,
    global_rng_state,
    resolve_device,
    seed_everything,
    set_global_rng_state,
)

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "Callback",
    "History",
    "Trainer",
    "global_rng_state",
    "resolve_device",
    "seed_everything",
    "set_global_rng_state",
]
