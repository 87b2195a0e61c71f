"""Batched-chain Hamiltonian Monte Carlo and NUTS for Pyro models and potential functions.

All chains advance together in one set of tensor operations (on the device of the data), with
Stan-style warmup. The entry point is :func:`sample_posterior`, which returns a :class:`Posterior`.
"""

from .adaptation import DualAveraging, WelfordVariance, find_reasonable_step_size, warmup_windows
from .hmc import hmc_transition, jittered_step_size
from .integrator import kinetic_energy, leapfrog
from .nuts import ChainState, nuts_transition
from .posterior import Posterior
from .potential import BatchedPotential, FunctionPotential
from .sample import sample_posterior

__all__ = [
    "BatchedPotential",
    "ChainState",
    "DualAveraging",
    "FunctionPotential",
    "Posterior",
    "WelfordVariance",
    "find_reasonable_step_size",
    "hmc_transition",
    "jittered_step_size",
    "kinetic_energy",
    "leapfrog",
    "nuts_transition",
    "sample_posterior",
    "warmup_windows",
]
