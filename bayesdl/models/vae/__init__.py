"""Variational autoencoders: pluggable encoders (posteriors), decoders with likelihoods, and priors.

Flow posterior (IAF, planar, radial): :class:`FlowPosteriorEncoder`; flow prior: :class:`FlowPrior`;
PixelVAE: :class:`PixelCNNDecoder`. See :mod:`bayesdl.models.vae.vae` for the interfaces they plug into.
"""

from .decoders import ConvDecoder, Decoder, MLPDecoder
from .encoders import ConvEncoder, MLPEncoder
from .flow_posterior import FlowPosteriorEncoder
from .flow_prior import FlowPrior
from .likelihoods import BernoulliLikelihood, GaussianLikelihood, Likelihood
from .pixel_decoder import PixelCNNConditional, PixelCNNDecoder
from .priors import Prior, StandardNormalPrior, VampPrior
from .vae import VAE

__all__ = [
    "BernoulliLikelihood",
    "ConvDecoder",
    "ConvEncoder",
    "Decoder",
    "FlowPosteriorEncoder",
    "FlowPrior",
    "GaussianLikelihood",
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


def __getattr__(name: str) -> object:
    # KLWarmup moved to bayesdl.inference (it works for any model with a kl_weight); the old import keeps working.
    if name == "KLWarmup":
        from ...deprecation import warn_deprecated

        warn_deprecated("bayesdl.models.vae.KLWarmup", "bayesdl.inference.KLWarmup")
        # deprecated shim: allowed in tests/test_layers.py until 0.3
        from ...inference.recipes import KLWarmup

        return KLWarmup
    if name == "CategoricalLikelihood":  # integer pixel levels, not class labels: the name misled
        from . import likelihoods

        return likelihoods.CategoricalLikelihood
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
