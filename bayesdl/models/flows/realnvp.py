"""RealNVP for vectors: stacked affine couplings with alternating or random masks."""

from __future__ import annotations

from collections.abc import Sequence

from ...io import serializable
from ...nn.flows import ActNorm, AffineCoupling, MLPConditioner, make_vector_mask
from ...validation import check_positive_int
from .base import Flow


@serializable
class RealNVP(Flow):
    """RealNVP density p(x) on R^D (or on [0, 1]^D with logit preprocessing).

    Each layer is ActNorm (optional) followed by an affine coupling whose mask alternates parity
    ("alternating") or is drawn at random per layer ("random").

    Arguments:
        features: D (>= 2).
        num_layers: the number of coupling layers.
        hidden_sizes: the conditioner MLP widths.
        mask: "alternating" or "random".
        context_size: width of a conditioning vector (0: unconditional).
        actnorm: put an ActNorm (data-dependent init) before each coupling.
        logit_alpha: if given, the data live in [0, 1] and a Logit(alpha) preprocessing is the first
            transform, its log-det included in log_prob.
        scale_bound: bound on each coupling's log-scale.
        seed: seed of random masks.

    Example:
        >>> import torch
        >>> flow = RealNVP(2, num_layers=2, hidden_sizes=[16])
        >>> flow.log_prob(torch.zeros(3, 2)).shape, flow.sample(5).shape
        (torch.Size([3]), torch.Size([5, 2]))

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), "Density estimation using Real NVP", arXiv:1605.08803.
    """

    def __init__(
        self,
        features: int,
        num_layers: int = 6,
        hidden_sizes: Sequence[int] = (64, 64),
        mask: str = "alternating",
        context_size: int = 0,
        actnorm: bool = True,
        logit_alpha: float | None = None,
        scale_bound: float = 3.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_positive_int(features, "features", minimum=2)
        check_positive_int(num_layers, "num_layers")
        steps = []
        for i in range(num_layers):
            if actnorm:
                steps.append(ActNorm(features))
            cond = MLPConditioner(features, list(hidden_sizes), context_size)
            steps.append(AffineCoupling(make_vector_mask(mask, features, i, seed), cond, scale_bound))
        self._setup_vector(steps, features, context_size, logit_alpha=logit_alpha)
