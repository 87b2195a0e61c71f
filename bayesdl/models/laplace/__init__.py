"""Post-hoc Laplace approximations of trained networks (last layer, all weights or chosen modules)."""

from .laplace import Laplace
from .structures import DiagonalPrecision, EigenPrecision, KroneckerPrecision
from .subnetwork import last_linear, select_parameters

__all__ = [
    "DiagonalPrecision",
    "EigenPrecision",
    "KroneckerPrecision",
    "Laplace",
    "last_linear",
    "select_parameters",
]
