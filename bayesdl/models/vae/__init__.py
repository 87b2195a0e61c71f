"""Variational autoencoders: pluggable encoders (posteriors), decoders with likelihoods, and priors.

Flow posterior (IAF, planar, radial): :class:`FlowPosteriorEncoder`; flow prior: :class:`FlowPrior`;
PixelVAE: :class:`PixelCNNDecoder`. See :mod:`bayesdl.models.vae.vae` for the interfaces they plug into.
"""

from .decoders import ConvDecoder, Decoder, MLPDecoder
from .encoders import ConvEncoder, MLPEncoder
from .flow_posterior import FlowPosteriorEncoder
from .flow_prior import FlowPrior
from .likelihoods import BernoulliLikelihood, CategoricalLikelihood, GaussianLikelihood, Likelihood
from .pixel_decoder import PixelCNNConditional, PixelCNNDecoder
from .priors import Prior, StandardNormalPrior, VampPrior
from .vae import VAE
from .warmup import KLWarmup

__all__ = [
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "ConvDecoder",
    "ConvEncoder",
    "Decoder",
    "FlowPosteriorEncoder",
    "FlowPrior",
    "GaussianLikelihood",
    "KLWarmup",
    "Likelihood",
    "MLPDecoder",
    "MLPEncoder",
    "PixelCNNConditional",
    "PixelCNNDecoder",
    "Prior",
    "StandardNormalPrior",
    "VAE",
    "VampPrior",
]
