"""Normalizing-flow models with exact log-likelihoods, usable as torch/Pyro distributions."""

from .base import Flow, FlowDistribution
from .bases import ConditionalNormalBase, StandardNormalBase
from .dequantized import Dequantized
from .iaf import IAF
from .maf import MAF
from .multiscale import MultiScaleFlow
from .nsf_autoregressive import NSFAutoregressive
from .nsf_coupling import NSFCoupling
from .planar import PlanarFlow
from .realnvp import RealNVP

__all__ = [
    "ConditionalNormalBase",
    "Dequantized",
    "Flow",
    "FlowDistribution",
    "IAF",
    "MAF",
    "MultiScaleFlow",
    "NSFAutoregressive",
    "NSFCoupling",
    "PlanarFlow",
    "RealNVP",
    "StandardNormalBase",
]
