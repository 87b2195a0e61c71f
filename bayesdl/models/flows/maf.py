"""Masked autoregressive flow (MAF): density in one MADE pass per layer, sampling in D passes."""

from __future__ import annotations

from collections.abc import Sequence

from ...deprecation import renamed_arguments
from ...io import serializable
from ...nn.flows import ActNorm, MaskedAffineAutoregressive
from ...validation import check_positive_int
from .base import Flow


@renamed_arguments(keywords={"num_transforms": "num_layers"})
@serializable
class MAF(Flow):
    """MAF density on R^D (or [0, 1]^D with logit preprocessing); layers alternate the MADE ordering.

    Arguments:
        features: D.
        num_layers: the number of MADE layers (``num_transforms`` is the deprecated name).
        hidden_sizes: MADE hidden widths.
        context_size: width of a conditioning vector fed to every MADE (0: unconditional).
        conditional_base: make the base normal's mean and scale functions of the context.
        actnorm: put an ActNorm between MADE layers (in place of MAF's batch norm).
        logit_alpha: if given, Logit(alpha) preprocessing of data in [0, 1] is the first transform.
        min_scale: lower bound of each layer's scale (see :class:`~bayesdl.nn.flows.MaskedAffineAutoregressive`).

    Example:
        >>> import torch
        >>> flow = MAF(3, num_layers=2, hidden_sizes=[16])
        >>> flow.log_prob(torch.zeros(4, 3)).shape
        torch.Size([4])

    References:
        Papamakarios, Pavlakou & Murray (2017), "Masked Autoregressive Flow for Density Estimation", arXiv:1705.07057.
    """

    def __init__(
        self,
        features: int,
        num_layers: int = 5,
        hidden_sizes: Sequence[int] = (64, 64),
        context_size: int = 0,
        conditional_base: bool = False,
        actnorm: bool = False,
        logit_alpha: float | None = None,
        min_scale: float = 1e-3,
    ) -> None:
        super().__init__()
        check_positive_int(features, "features")
        check_positive_int(num_layers, "num_layers")
        steps = []
        for i in range(num_layers):
            if actnorm and i > 0:
                steps.append(ActNorm(features))
            steps.append(
                MaskedAffineAutoregressive(
                    features, list(hidden_sizes), context_size, reverse_order=i % 2 == 1, min_scale=min_scale
                )
            )
        self._setup_vector(steps, features, context_size, conditional_base, logit_alpha)
