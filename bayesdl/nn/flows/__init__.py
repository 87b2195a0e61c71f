"""Normalizing-flow transforms: each maps data x to base z with log|det dz/dx|, and back.

See :mod:`bayesdl.nn.flows.base` for the direction convention. Models built from these live in
:mod:`bayesdl.models.flows`.
"""

from .actnorm import ActNorm
from .autoregressive import InverseAutoregressive, MaskedAffineAutoregressive
from .base import FlowSequence, Transform, sum_except_batch
from .conditioners import ConvConditioner, MLPConditioner
from .coupling import AffineCoupling
from .logit import Logit
from .lu import InvertibleConv1x1, LULinear, LUWeight
from .masks import alternating_mask, channel_mask, checkerboard_mask, make_vector_mask, random_mask
from .permutation import Permutation
from .planar import Planar
from .radial import Radial
from .reshape import FactorOut, Flatten, Squeeze
from .rq_spline import RationalQuadraticSpline
from .spline_autoregressive import RQSplineAutoregressive
from .spline_coupling import RQSplineCoupling

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "ConvConditioner",
    "FactorOut",
    "Flatten",
    "FlowSequence",
    "InverseAutoregressive",
    "InvertibleConv1x1",
    "LULinear",
    "LUWeight",
    "Logit",
    "MLPConditioner",
    "MaskedAffineAutoregressive",
    "Permutation",
    "Planar",
    "RQSplineAutoregressive",
    "RQSplineCoupling",
    "Radial",
    "RationalQuadraticSpline",
    "Squeeze",
    "Transform",
    "alternating_mask",
    "channel_mask",
    "checkerboard_mask",
    "make_vector_mask",
    "random_mask",
    "sum_except_batch",
]
