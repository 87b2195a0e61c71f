"""Gaussian processes built on GPyTorch: exact GP regression, sparse variational GPs and deep kernel learning.

All three are trained by the shared :class:`bayesdl.inference.Trainer` through their ``loss`` (the
negative GPyTorch marginal likelihood or ELBO per example, in nats) and answer the shared
:func:`bayesdl.inference.predictive.predict` with the same result objects as the Bayesian networks.
"""

from .dkl import DeepKernelGP, default_feature_extractor
from .exact import ExactGPRegression
from .kernels import KERNELS, make_kernel
from .likelihoods import LIKELIHOODS, IndependentSoftmaxLikelihood, make_likelihood
from .svgp import SparseVariationalGP
from .variational import VariationalGP

__all__ = [
    "KERNELS",
    "LIKELIHOODS",
    "DeepKernelGP",
    "ExactGPRegression",
    "IndependentSoftmaxLikelihood",
    "SparseVariationalGP",
    "VariationalGP",
    "default_feature_extractor",
    "make_kernel",
    "make_likelihood",
]
