"""Generic Monte Carlo kernels that models call from their own methods: annealed importance sampling over a
path, and block Gibbs sweeps over a cycle of conditionals.

They sit below ``models`` and ``inference`` (layer 3, beside ``contracts`` and ``bounds``) because both sides
use them: an RBM estimates its own log partition function with AIS and samples itself with block Gibbs, and
inference code runs the same kernels on any model that supplies a path or conditionals. They know nothing
about any model and import only torch, :mod:`bayesdl.results` and :mod:`bayesdl.validation`.
:mod:`bayesdl.inference` re-exports them under their old names.
"""

from .annealing import AnnealingPath, ais_betas, annealed_importance_sampling
from .gibbs import block_gibbs

__all__ = ["AnnealingPath", "ais_betas", "annealed_importance_sampling", "block_gibbs"]
