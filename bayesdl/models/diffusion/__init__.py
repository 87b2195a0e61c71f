"""Diffusion models with likelihoods: DDPM, its full variational bound, ancestral and DDIM sampling,
the class-conditional ConditionalDDPM with classifier-free guidance, and RePaint inpainting.

Each operation has one public entry point on the model (:meth:`DDPM.sample`, :meth:`DDPM.ddim_sample`,
:meth:`DDPM.nll_bound`, :meth:`DDPM.bits_per_dim`, :meth:`DDPM.complete`); the modules behind them talk to the model through
:class:`~bayesdl.models.diffusion.process.DiffusionProcess`.
"""

from .bound import BoundTerms
from .conditional import ConditionalDDPM
from .ddpm import DDPM
from .gaussian import discretized_gaussian_log_likelihood, gaussian_kl, gaussian_log_likelihood
from .guidance import GuidedProcess
from .inpainting import inpaint, repaint_times
from .process import DiffusionProcess, ReverseStep
from .sampling import ddim_timesteps
from .schedules import SCHEDULES, cosine_betas, linear_betas, make_betas, schedule_quantities
from .timesteps import ImportanceTimestepSampler

__all__ = [
    "DDPM",
    "ConditionalDDPM",
    "GuidedProcess",
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
    "inpaint",
    "linear_betas",
    "make_betas",
    "repaint_times",
    "schedule_quantities",
]
