"""Diffusion models with likelihoods: DDPM, its full variational bound, ancestral and DDIM sampling."""

from .bound import BoundTerms, variational_bound
from .ddpm import DDPM, ReverseStep
from .gaussian import discretized_gaussian_log_likelihood, gaussian_kl, gaussian_log_likelihood
from .sampling import ancestral_sample, ddim_sample, ddim_timesteps
from .schedules import SCHEDULES, cosine_betas, linear_betas, make_betas, schedule_quantities
from .timesteps import ImportanceTimestepSampler

__all__ = [
    "DDPM",
    "SCHEDULES",
    "BoundTerms",
    "ImportanceTimestepSampler",
    "ReverseStep",
    "ancestral_sample",
    "cosine_betas",
    "ddim_sample",
    "ddim_timesteps",
    "discretized_gaussian_log_likelihood",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "linear_betas",
    "make_betas",
    "schedule_quantities",
    "variational_bound",
]
