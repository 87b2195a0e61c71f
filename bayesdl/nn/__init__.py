"""Reusable layers with no training logic."""

from .bayesian_layers import BayesianConv2d, BayesianLinear, bayesian_layers, total_kl
from .priors import GaussianPrior, ScaleMixturePrior, kl_divergence

__all__ = ["BayesianConv2d", "BayesianLinear", "GaussianPrior", "ScaleMixturePrior", "bayesian_layers", "kl_divergence", "total_kl"]
