"""Planar and radial flows (Rezende & Mohamed 2015) as density models."""

from __future__ import annotations

from typing import Literal

from ...io import serializable
from ...nn.flows import FlowSequence, Planar, Radial
from ...validation import check_choice, check_positive_int
from .base import Flow


@serializable
class PlanarFlow(Flow):
    """A stack of planar (or radial) layers on R^D with a standard normal base.

    Sampling and the density of samples are closed-form; the density of arbitrary points uses each
    layer's numerical (planar: bisection) or closed-form (radial) inverse.

    Arguments:
        features: D.
        num_layers: the number of layers.
        kind: "planar" or "radial".
        seed: seed of the initial parameters.

    Example:
        >>> import torch
        >>> flow = PlanarFlow(2, num_layers=3)
        >>> x, log_q = flow.rsample_and_log_prob(4)
        >>> bool(torch.allclose(flow.log_prob(x), log_q, atol=1e-4))
        True

    References:
        Rezende & Mohamed (2015), "Variational Inference with Normalizing Flows", arXiv:1505.05770.
    """

    def __init__(
        self, features: int, num_layers: int = 16, kind: Literal["planar", "radial"] = "planar", seed: int = 0
    ) -> None:
        super().__init__()
        check_positive_int(num_layers, "num_layers")
        check_choice(kind, "kind", ("planar", "radial"))
        layer = Planar if kind == "planar" else Radial
        # layers are listed data-to-base; sampling applies them in reverse order
        self._setup(FlowSequence([layer(features, seed=seed + i) for i in range(num_layers)]), (features,))
