"""Continuous-time generative models with exact likelihoods through their ODE.

* :class:`ScoreSDE`: score-based diffusion on a forward SDE (:class:`VPSDE`, :class:`SubVPSDE`, :class:`VESDE`),
  trained by denoising score matching (optionally likelihood-weighted, with importance-sampled t), sampled by the
  reverse SDE or the probability-flow ODE;
* :class:`FlowMatching`: conditional-OT flow matching / rectified flow, sampled by its ODE.

Both are :class:`~bayesdl.contracts.ProbabilityFlow` s: their log-density comes from one shared function,
:func:`bayesdl.inference.ode_log_likelihood` (exact divergence, or Hutchinson's estimator with its standard error).
"""

from .base import ContinuousTimeModel
from .flow_matching import FlowMatching
from .importance import ImportanceTimeSampler
from .score_sde import ScoreSDE
from .sde import SDE, VESDE, VPSDE, SubVPSDE

__all__ = [
    "SDE",
    "VESDE",
    "VPSDE",
    "ContinuousTimeModel",
    "FlowMatching",
    "ImportanceTimeSampler",
    "ScoreSDE",
    "SubVPSDE",
]
