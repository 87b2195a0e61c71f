"""Autoregressive neural spline flow: MAF's structure with rational-quadratic spline maps."""

from __future__ import annotations

from collections.abc import Sequence

from ...io import serializable
from ...nn.flows import ActNorm, RQSplineAutoregressive
from ...validation import check_positive_int
from .base import Flow


@serializable
class NSFAutoregressive(Flow):
    """RQ-NSF (AR): a density on R^D (or [0, 1]^D with logit preprocessing) from MADE-driven splines.

    Each layer is a :class:`~bayesdl.nn.flows.RQSplineAutoregressive`: dimension i goes through a
    monotone rational-quadratic spline with K bins on [-B, B] whose parameters are a MADE output of the
    dimensions before it; layers alternate the ordering, as in :class:`MAF`. Outside [-B, B] each
    spline is the identity (linear tails), so data beyond the bound are handled, with log-det 0 there.
    The density is one MADE pass per layer (this is also a VAE prior, ``FlowPrior(flow="nsf")``);
    sampling takes D passes. This is the flow that ``zuko.flows.NSF`` builds by default.

    Arguments:
        features: D.
        num_layers: the number of MADE layers.
        hidden_sizes: MADE hidden widths.
        bins: K, the number of spline bins (>= 1).
        bound: B > 0, the half-width of the spline's interval.
        context_size: width of a conditioning vector fed to every MADE (0: unconditional).
        conditional_base: make the base normal's mean and scale functions of the context.
        actnorm: put an ActNorm between MADE layers.
        logit_alpha: if given, Logit(alpha) preprocessing of data in [0, 1] is the first transform.
        min_bin_width, min_bin_height, min_derivative: the spline's floors
            (see :class:`~bayesdl.nn.flows.RationalQuadraticSpline`).

    Example:
        >>> import torch
        >>> flow = NSFAutoregressive(3, num_layers=2, hidden_sizes=[16], bins=4)
        >>> flow.log_prob(torch.zeros(4, 3)).shape, flow.sample(2).shape
        (torch.Size([4]), torch.Size([2, 3]))

    References:
        Durkan, Bekasov, Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032.
        Papamakarios, Pavlakou & Murray (2017), "Masked Autoregressive Flow for Density Estimation", arXiv:1705.07057.
    """

    def __init__(
        self,
        features: int,
        num_layers: int = 5,
        hidden_sizes: Sequence[int] = (64, 64),
        bins: int = 8,
        bound: float = 5.0,
        context_size: int = 0,
        conditional_base: bool = False,
        actnorm: bool = False,
        logit_alpha: float | None = None,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_derivative: float = 1e-3,
    ) -> None:
        super().__init__()
        check_positive_int(features, "features")
        check_positive_int(num_layers, "num_layers")
        steps = []
        for i in range(num_layers):
            if actnorm and i > 0:
                steps.append(ActNorm(features))
            steps.append(
                RQSplineAutoregressive(
                    features,
                    list(hidden_sizes),
                    context_size,
                    reverse_order=i % 2 == 1,
                    bins=bins,
                    bound=bound,
                    min_bin_width=min_bin_width,
                    min_bin_height=min_bin_height,
                    min_derivative=min_derivative,
                )
            )
        self._setup_vector(steps, features, context_size, conditional_base, logit_alpha)
