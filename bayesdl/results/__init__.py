"""Result types shared by models, inference and diagnostics; this package imports only torch.

A model builds them (its ``predictive_samples`` returns :class:`GaussianDraws`), the inference layer
fills and summarises them (:func:`~bayesdl.inference.predict`, the AIS and importance-sampling
estimators, block Gibbs), and the diagnostics read them (metrics and plots). Because all three import
them from here, none of the three has to import another.

* predictive draws and summaries: :class:`GaussianDraws`, :class:`CategoricalDraws`,
  :class:`RegressionPrediction`, :class:`ClassificationPrediction`;
* estimates with their standard errors: :class:`LogPartitionEstimate`, :class:`LogLikelihoodEstimate`,
  and the bound :class:`ELBOTerms`;
* the ODE log-likelihood of a continuous-time model: :class:`ODELogLikelihood`;
* sampler output: :class:`GibbsResult`;
* draws of a predictive by chain, for ArviZ: :class:`FunctionDraws`;
* the one conversion from nats per example to bits per dimension: :func:`bits_per_dim`.
"""

from .bits import bits_per_dim
from .estimates import ELBOTerms, LogLikelihoodEstimate, LogPartitionEstimate, summarize_log_weights
from .function_draws import FunctionDraws
from .gibbs import GibbsResult
from .ode import ODELogLikelihood
from .predictive import (
    CategoricalDraws,
    ClassificationPrediction,
    GaussianDraws,
    Prediction,
    RegressionPrediction,
)

__all__ = [
    "CategoricalDraws",
    "ClassificationPrediction",
    "ELBOTerms",
    "FunctionDraws",
    "GaussianDraws",
    "GibbsResult",
    "LogLikelihoodEstimate",
    "LogPartitionEstimate",
    "ODELogLikelihood",
    "Prediction",
    "RegressionPrediction",
    "bits_per_dim",
    "summarize_log_weights",
]
