"""The shared inference layer: objectives, the trainer, samplers, estimators and predictive tools.

Importing bayesdl sets ``pyro.settings.set(module_local_params=True)``: parameters of
``PyroModule`` s then live in the modules themselves (not in Pyro's global parameter store), which
is what lets the trainer use ordinary torch optimisers, schedulers and ``state_dict`` checkpoints
for Pyro models, and keeps two models with the same site names from sharing parameters. Build
PyroModules after importing bayesdl.
"""

from .ais import AnnealingPath, LogPartitionEstimate, ais_betas, annealed_importance_sampling
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
from .gibbs import GibbsResult, block_gibbs
from .mcmc import Posterior, sample_posterior
from .objectives import LossObjective, Objective, PyroObjective, as_objective, make_elbo
from .training import Callback, History, Trainer, resolve_device, seed_everything

__all__ = [
    "AnnealingPath",
    "GibbsResult",
    "LogPartitionEstimate",
    "ais_betas",
    "annealed_importance_sampling",
    "block_gibbs",
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
    "Posterior",
    "PyroObjective",
    "Trainer",
    "as_objective",
    "bits_per_dim",
    "make_elbo",
    "resolve_device",
    "sample_posterior",
    "seed_everything",
]
