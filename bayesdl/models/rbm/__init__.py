"""Restricted Boltzmann machines: the model, its CD gradient, its AIS path and its training monitor.

- :mod:`~bayesdl.models.rbm.model`: :class:`RBM` (energy, conditionals, Gibbs sampling, CD/PCD loss, log Z);
- :mod:`~bayesdl.models.rbm.cd_gradient`: the closed-form contrastive-divergence gradient as an autograd function;
- :mod:`~bayesdl.models.rbm.annealing_path`: :class:`RBMAnnealingPath`, the AIS path for log Z;
- :mod:`~bayesdl.models.rbm.monitor`: :class:`RBMMonitor`, a Trainer callback with the training monitors.

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
from .monitor import RBMMonitor

__all__ = [
    "MAX_ENUMERATION_UNITS",
    "RBM",
    "RBMAnnealingPath",
    "RBMMonitor",
    "StaleLogPartitionError",
    "TRAINING_METHODS",
    "UNIFORM_BITS",
    "VISIBLE_TYPES",
    "binary_states",
    "uniform",
    "uniform_bits",
]
