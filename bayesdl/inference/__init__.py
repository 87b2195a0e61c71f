"""The shared inference layer: objectives, the trainer, samplers, estimators and predictive tools.

Importing this package sets ``pyro.settings.set(module_local_params=True)``: parameters of
``PyroModule`` s then live in the modules themselves (not in Pyro's global parameter store), which
is what lets the trainer use ordinary torch optimisers, schedulers and ``state_dict`` checkpoints
for Pyro models, and keeps two models with the same site names from sharing parameters.
"""

import pyro

from .bits import bits_per_dim
from .estimators import (
    ELBOTerms,
    LogLikelihoodEstimate,
    active_units,
    elbo_terms,
    log_importance_weights,
    log_likelihood,
    posterior_means,
)
from .objectives import LossObjective, Objective, PyroObjective, as_objective, make_elbo
from .trainer import Callback, History, Trainer, resolve_device, seed_everything

pyro.settings.set(module_local_params=True)

__all__ = [
    "Callback",
    "ELBOTerms",
    "LogLikelihoodEstimate",
    "active_units",
    "elbo_terms",
    "log_importance_weights",
    "log_likelihood",
    "posterior_means",
    "History",
    "LossObjective",
    "Objective",
    "PyroObjective",
    "Trainer",
    "as_objective",
    "bits_per_dim",
    "make_elbo",
    "resolve_device",
    "seed_everything",
]
