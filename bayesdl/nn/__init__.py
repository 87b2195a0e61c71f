"""Reusable layers with no training logic: Bayesian layers and priors, masked layers, flow transforms, denoisers."""

from .bayesian_layers import BayesianConv2d, BayesianLinear, bayesian_layers, total_kl
from .denoising_mlp import DenoisingMLP
from .label_embedding import LabelEmbedding
from .priors import GaussianPrior, ScaleMixturePrior, kl_divergence
from .time_embedding import SinusoidalTimeEmbedding
from .unet import UNet

__all__ = [
    "BayesianConv2d",
    "BayesianLinear",
    "DenoisingMLP",
    "GaussianPrior",
    "LabelEmbedding",
    "ScaleMixturePrior",
    "SinusoidalTimeEmbedding",
    "UNet",
    "bayesian_layers",
    "kl_divergence",
    "total_kl",
]
