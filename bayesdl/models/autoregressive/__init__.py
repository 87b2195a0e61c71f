"""Autoregressive models with exact likelihoods: NADE, MADE and the gated PixelCNN.

Each provides ``log_prob(x)`` (exact, nats per example, [B]), ``loss(x)`` (mean NLL, for the shared
:class:`bayesdl.inference.Trainer`), ``sample(n, seed=...)`` (ancestral, batched across samples) and
``complete(x_partial, mask)`` (inpainting in the model's ordering).
"""

from .likelihoods import (
    BernoulliOutput,
    CategoricalOutput,
    DiscretizedLogisticMixture,
    GaussianOutput,
    LevelsOutput,
    OutputLikelihood,
    make_likelihood,
)
from .made import MADE
from .nade import NADE
from .pixelcnn import PixelCNN

__all__ = [
    "BernoulliOutput",
    "CategoricalOutput",
    "DiscretizedLogisticMixture",
    "GaussianOutput",
    "LevelsOutput",
    "MADE",
    "NADE",
    "OutputLikelihood",
    "PixelCNN",
    "make_likelihood",
]
