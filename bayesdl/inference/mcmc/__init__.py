"""Batched-chain Hamiltonian Monte Carlo and NUTS for Pyro models and potential functions.

All chains advance together in one set of tensor operations (on the device of the data), with
Stan-style warmup. The entry point is :func:`sample_posterior`, which returns a :class:`Posterior`.
"""

from .adaptation import (
    DualAveraging,
    WelfordCovariance,
    WelfordVariance,
    find_reasonable_step_size,
    warmup_windows,
)
from .convergence import ConvergenceSummary, bulk_ess, convergence_summary, rank_normalized_rhat, tail_ess
from .hmc import hmc_transition, jittered_step_size
from .integrator import kinetic_energy, leapfrog, sample_momentum, velocity
from .nuts import ChainState, nuts_transition
from .posterior import Posterior
from .potential import BatchedPotential, FunctionPotential
from .reference_check import ReferenceComparison, compare_to_reference
from .sample import sample_posterior

__all__ = [
    "BatchedPotential",
    "ChainState",
    "ConvergenceSummary",
    "DualAveraging",
    "FunctionPotential",
    "Posterior",
    "ReferenceComparison",
    "WelfordCovariance",
    "WelfordVariance",
    "bulk_ess",
    "compare_to_reference",
    "convergence_summary",
    "find_reasonable_step_size",
    "hmc_transition",
    "jittered_step_size",
    "kinetic_energy",
    "leapfrog",
    "nuts_transition",
    "rank_normalized_rhat",
    "sample_momentum",
    "sample_posterior",
    "tail_ess",
    "velocity",
    "warmup_windows",
]
