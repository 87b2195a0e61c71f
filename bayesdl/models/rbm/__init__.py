"""Restricted Boltzmann machines: the model, its CD gradient and its AIS path.

- :mod:`~bayesdl.models.rbm.model`: :class:`RBM` (energy, conditionals, Gibbs sampling, CD/PCD loss, log Z);
- :mod:`~bayesdl.models.rbm.cd_gradient`: the closed-form contrastive-divergence gradient as an autograd function;
- :mod:`~bayesdl.models.rbm.annealing_path`: :class:`RBMAnnealingPath`, the AIS path for log Z;

The training monitor, a Trainer callback, is :class:`bayesdl.inference.RBMMonitor` (the old import from here
still works, with a DeprecationWarning).

The random-bit helpers the samplers use live in :mod:`bayesdl.ops.random_bits` and are re-exported here.
"""

from ...ops.random_bits import UNIFORM_BITS, uniform, uniform_bits
from .annealing_path import RBMAnnealingPath
from .model import (
    MAX_ENUMERATION_UNITS,
    RBM,
    TRAINING_METHODS,
    VISIBLE_TYPES,
    StaleLogPartitionError,
    binary_states,
)

__all__ = [
    "MAX_ENUMERATION_UNITS",
    "RBM",
    "RBMAnnealingPath",
    "StaleLogPartitionError",
    "TRAINING_METHODS",
    "UNIFORM_BITS",
    "VISIBLE_TYPES",
    "binary_states",
    "uniform",
    "uniform_bits",
]


def __getattr__(name: str) -> object:
    # RBMMonitor is a Trainer callback, so it moved to bayesdl.inference; the old import keeps working.
    if name == "RBMMonitor":
        from ...deprecation import warn_deprecated

        warn_deprecated("bayesdl.models.rbm.RBMMonitor", "bayesdl.inference.RBMMonitor")
        # deprecated shim: allowed in tests/test_layers.py until 0.3
        from ...inference.recipes import RBMMonitor

        return RBMMonitor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
