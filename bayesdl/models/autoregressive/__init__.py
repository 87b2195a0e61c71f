"""Autoregressive models with exact likelihoods: NADE, MADE and the gated PixelCNN.

Each provides ``log_prob(x)`` (exact, nats per example, [B]), ``loss(x)`` (mean NLL, for the shared
:class:`bayesdl.inference.Trainer`), ``sample(n, seed=...)`` (ancestral, batched across samples) and
``complete(x_partial, mask)`` (inpainting in the model's ordering). Their per-pixel outputs are the heads
of :mod:`bayesdl.nn.heads`.
"""

from typing import Any

from . import likelihoods as _likelihoods
from .likelihoods import DiscretizedLogisticMixture, make_likelihood
from .made import MADE
from .nade import NADE
from .pixelcnn import PixelCNN

__all__ = [
    "DiscretizedLogisticMixture",
    "MADE",
    "NADE",
    "PixelCNN",
    "make_likelihood",
]


def __getattr__(name: str) -> Any:
    """The old output-likelihood names (deprecated; see :mod:`bayesdl.models.autoregressive.likelihoods`)."""
    return getattr(_likelihoods, name)
