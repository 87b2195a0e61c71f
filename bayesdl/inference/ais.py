"""Annealed importance sampling: re-exported from :mod:`bayesdl.montecarlo.annealing`, where models can reach it."""

from ..montecarlo.annealing import AnnealingPath, ais_betas, annealed_importance_sampling
from ..results.estimates import LogPartitionEstimate, summarize_log_weights

__all__ = [
    "AnnealingPath",
    "LogPartitionEstimate",
    "ais_betas",
    "annealed_importance_sampling",
    "summarize_log_weights",
]
