"""Inverse autoregressive flow (IAF): sampling in one MADE pass per layer, for VAE posteriors."""

from __future__ import annotations

from collections.abc import Sequence

from ...deprecation import renamed_arguments
from ...io import serializable
from ...nn.flows import FlowSequence, InverseAutoregressive
from ...validation import check_positive_int
from .base import Flow


@renamed_arguments(keywords={"num_transforms": "num_layers"})
@serializable
class IAF(Flow):
    """IAF on R^D: x = g_K(...g_1(z)), z ~ base; each g_k is a gated MADE update with alternating ordering.

    For an amortised VAE posterior q(z | x) use ``context_size`` = the encoder feature width and
    ``conditional_base=True``: the base is N(mu(h), sigma(h)^2) and every IAF step sees h. Then
    ``flow.distribution(h).rsample()`` is one pass, and ``log_prob`` of those samples is free (cached).
    ``log_prob`` of other points inverts each step with D passes.

    Arguments:
        features: D.
        num_layers: the number of IAF steps (``num_transforms`` is the deprecated name).
        hidden_sizes: MADE hidden widths.
        context_size: width of a conditioning vector (0: unconditional).
        conditional_base: make the base normal's mean and scale functions of the context.

    Example:
        >>> import torch
        >>> q = IAF(2, num_layers=2, hidden_sizes=[16], context_size=3, conditional_base=True)
        >>> d = q.distribution(torch.randn(5, 3))
        >>> z = d.rsample()
        >>> z.shape, d.log_prob(z).shape
        (torch.Size([5, 2]), torch.Size([5]))

    References:
        Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling (2016), arXiv:1606.04934.
    """

    def __init__(
        self,
        features: int,
        num_layers: int = 4,
        hidden_sizes: Sequence[int] = (64, 64),
        context_size: int = 0,
        conditional_base: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int(features, "features")
        check_positive_int(num_layers, "num_layers")
        steps = [
            InverseAutoregressive(features, list(hidden_sizes), context_size, reverse_order=i % 2 == 1)
            for i in range(num_layers)
        ]
        self._setup(FlowSequence(steps), (features,), context_size, conditional_base)
