"""Variational autoencoders: pluggable encoders (posteriors), decoders with likelihoods, and priors.

See :mod:`bayesdl.models.vae.vae` for how to plug in a flow posterior, a flow prior or a PixelCNN decoder.
"""

from .decoders import ConvDecoder, Decoder, MLPDecoder
from .encoders import ConvEncoder, MLPEncoder
from .likelihoods import BernoulliLikelihood, CategoricalLikelihood, GaussianLikelihood, Likelihood
from .priors import Prior, StandardNormalPrior, VampPrior
from .vae import VAE
from .warmup import KLWarmup

__all__ = [
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "ConvDecoder",
    "ConvEncoder",
    "Decoder",
    "GaussianLikelihood",
    "KLWarmup",
    "Likelihood",
    "MLPDecoder",
    "MLPEncoder",
    "Prior",
    "StandardNormalPrior",
    "VAE",
    "VampPrior",
]
