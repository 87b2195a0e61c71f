"""Coupling neural spline flow: RealNVP's structure with rational-quadratic spline couplings."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...io import serializable
from ...nn.flows import ActNorm, RQSplineCoupling, make_vector_mask
from ...validation import check_positive_int
from .base import Flow


@serializable
class NSFCoupling(Flow):
    """RQ-NSF (C): a density on R^D (or [0, 1]^D with logit preprocessing) from spline couplings.

    Each layer is an optional ActNorm and a :class:`~bayesdl.nn.flows.RQSplineCoupling` whose mask
    alternates parity ("alternating") or is drawn at random per layer ("random"), as in
    :class:`RealNVP`. Every element not in the mask goes through a monotone rational-quadratic spline
    with K bins on [-B, B] whose parameters are an MLP of the masked elements; outside [-B, B] the
    spline is the identity (linear tails), so data beyond the bound are handled, with log-det 0 there.
    Both density and sampling take one network pass per layer, so this is also the spline flow for
    VAE posteriors (``FlowPosteriorEncoder(flow="nsf")``). Standardise the data (or use
    ``logit_alpha``) so that most of it lies inside the bound.

    Arguments:
        features: D (>= 2).
        num_layers: the number of coupling layers.
        hidden_sizes: the widths of each coupling's MLP.
        bins: K, the number of spline bins (>= 1).
        bound: B > 0, the half-width of the spline's interval.
        mask: "alternating" or "random".
        context_size: width of a conditioning vector (0: unconditional).
        conditional_base: make the base normal's mean and scale functions of the context.
        actnorm: put an ActNorm (data-dependent init) before each coupling.
        logit_alpha: if given, the data live in [0, 1] and a Logit(alpha) preprocessing is the first transform.
        min_bin_width, min_bin_height, min_derivative: the spline's floors
            (see :class:`~bayesdl.nn.flows.RationalQuadraticSpline`).
        seed: seed of random masks.

    Example:
        >>> import torch
        >>> flow = NSFCoupling(2, num_layers=2, hidden_sizes=[16], bins=4)
        >>> x = flow.sample(5, generator=torch.Generator().manual_seed(0))
        >>> x.shape, flow.log_prob(x).shape
        (torch.Size([5, 2]), torch.Size([5]))

    References:
        Durkan, Bekasov, Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032.
        Dinh, Sohl-Dickstein & Bengio (2016), "Density estimation using Real NVP", arXiv:1605.08803.
    """

    def __init__(
        self,
        features: int,
        num_layers: int = 4,
        hidden_sizes: Sequence[int] = (64, 64),
        bins: int = 8,
        bound: float = 5.0,
        mask: str = "alternating",
        context_size: int = 0,
        conditional_base: bool = False,
        actnorm: bool = False,
        logit_alpha: float | None = None,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_derivative: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_positive_int(features, "features", minimum=2)
        check_positive_int(num_layers, "num_layers")
        steps = []
        for i in range(num_layers):
            if actnorm:
                steps.append(ActNorm(features))
            with torch.device("cpu"):  # the masks are host-side values, also when the model is built on meta
                layer_mask = make_vector_mask(mask, features, i, seed)
            steps.append(
                RQSplineCoupling(
                    layer_mask,
                    list(hidden_sizes),
                    context_size,
                    bins,
                    bound,
                    min_bin_width,
                    min_bin_height,
                    min_derivative,
                )
            )
        self._setup_vector(steps, features, context_size, conditional_base, logit_alpha)
