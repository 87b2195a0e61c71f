"""Uncertainty-aware networks in one place: Bayes by Backprop, MC dropout, deep ensembles, plain nets, likelihood heads.

Each lives in its own module (:mod:`~bayesdl.models.bnn_bbb`, :mod:`~bayesdl.models.mc_dropout`,
:mod:`~bayesdl.models.ensemble`, :mod:`~bayesdl.models.supervised`, :mod:`~bayesdl.nn.heads`,
:mod:`~bayesdl.models.pyro_bnn`); this module re-exports them. All answer
``bayesdl.inference.predictive.predict(model, x, num_samples)``.
"""

from .bnn_bbb import BayesByBackprop, bayesian
from .ensemble import DeepEnsemble, reinitialise
from .likelihoods import (
    CategoricalLikelihood,
    HeteroscedasticGaussian,
    HomoscedasticGaussian,
    gaussian_nll_from_log_var,
)
from .mc_dropout import MCDropout, model_precision
from .supervised import PlainNet

__all__ = [
    "BayesByBackprop",
    "CategoricalLikelihood",
    "DeepEnsemble",
    "HeteroscedasticGaussian",
    "HomoscedasticGaussian",
    "MCDropout",
    "PlainNet",
    "bayesian",
    "gaussian_nll_from_log_var",
    "model_precision",
    "reinitialise",
]
