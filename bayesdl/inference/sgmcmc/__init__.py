"""Stochastic-gradient MCMC: samplers that run as torch optimisers under the shared Trainer.

Each sampler targets p(theta | D)^(1/T) from minibatch gradients of the mean loss per example, rescaled to the
whole data set by ``num_data``; a :class:`SampleCollector` callback keeps draws after burn-in, and a
:class:`CyclicalSchedule` gives the cyclical step sizes of cSG-MCMC.
"""

from .collector import SampleCollector
from .cyclical import CyclicalSchedule
from .langevin import SGLD, PreconditionedSGLD
from .sghmc import SGHMC

__all__ = ["SGHMC", "SGLD", "CyclicalSchedule", "PreconditionedSGLD", "SampleCollector"]
