"""The shared inference layer: objectives, the trainer, samplers, estimators and predictive tools.

While bayesdl trains or queries a Pyro model it turns on Pyro's ``module_local_params`` for the
duration of that call only: parameters of ``PyroModule`` s (autoguides included) then live in the
modules themselves, not in Pyro's global parameter store, which is what lets the trainer use ordinary
torch optimisers, schedulers and ``state_dict`` checkpoints, and keeps two guides with the same site
names from sharing parameters. The caller's setting is restored afterwards, so a plain Pyro program
that imports bayesdl keeps using its parameter store; PyroModules may be built before or after.
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
from .guide_draws import guide_posterior
from .mcmc import Posterior, sample_posterior
from .objectives import LossObjective, Objective, PyroObjective, as_objective, make_elbo
from .ode_likelihood import ODELogLikelihood, exact_divergence, hutchinson_divergence, ode_log_likelihood
from .predictive import predict
from .recipes import KLWarmup, OnlineMarglik, RBMMonitor, fit_ensemble, fit_greedy
from .trainer import Callback, History, Trainer, resolve_device, seed_everything

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
    "guide_posterior",
    "log_importance_weights",
    "log_likelihood",
    "posterior_means",
    "History",
    "KLWarmup",
    "OnlineMarglik",
    "RBMMonitor",
    "fit_ensemble",
    "fit_greedy",
    "LossObjective",
    "Objective",
    "Posterior",
    "PyroObjective",
    "Trainer",
    "as_objective",
    "bits_per_dim",
    "make_elbo",
    "ODELogLikelihood",
    "exact_divergence",
    "hutchinson_divergence",
    "ode_log_likelihood",
    "predict",
    "resolve_device",
    "sample_posterior",
    "seed_everything",
]
