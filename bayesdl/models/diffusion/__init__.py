"""Diffusion models with likelihoods: DDPM, its full variational bound, ancestral and DDIM sampling.

Each operation has one public entry point on the model (:meth:`DDPM.sample`, :meth:`DDPM.ddim_sample`,
:meth:`DDPM.nll_bound`, :meth:`DDPM.bits_per_dim`); the modules behind them talk to the model through
:class:`~bayesdl.models.diffusion.process.DiffusionProcess`.
"""

from .bound import BoundTerms
from .ddpm import DDPM
from .gaussian import discretized_gaussian_log_likelihood, gaussian_kl, gaussian_log_likelihood
from .process import DiffusionProcess, ReverseStep
from .sampling import ddim_timesteps
from .schedules import SCHEDULES, cosine_betas, linear_betas, make_betas, schedule_quantities
from .timesteps import ImportanceTimestepSampler

__all__ = [
    "DDPM",
    "SCHEDULES",
    "BoundTerms",
    "DiffusionProcess",
    "ImportanceTimestepSampler",
    "ReverseStep",
    "cosine_betas",
    "ddim_timesteps",
    "discretized_gaussian_log_likelihood",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "linear_betas",
    "make_betas",
    "schedule_quantities",
]
