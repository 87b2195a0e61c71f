"""A flow prior p(z) for the VAE: a standard Normal pushed through an invertible MAF or RealNVP.

The VAE evaluates log p(z) at codes drawn from the posterior, so the prior needs a density at any
point in one pass: MAF (Papamakarios et al. 2017, arXiv:1705.07057) gives it, with
log p(z) = log N(f(z); 0, I) + log|det df/dz|, f the data-to-noise map. Sampling from the prior
(``VAE.sample``) takes L network passes, cheap for the usual latent sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...deprecation import renamed_arguments
from ...io import serializable
from ...validation import check_positive_int
from ..flows import MAF, FlowDistribution
from .encoders import _hidden
from .priors import Prior


@renamed_arguments(keywords={"num_transforms": "num_layers", "hidden_dims": "hidden_sizes"})
@serializable
class FlowPrior(Prior):
    """p(z) = MAF density on R^L with a standard-Normal base (it starts as N(0, I)).

    Arguments:
        latent_dim: L.
        num_layers: the number of MADE layers (``num_transforms`` is the deprecated name).
        hidden_sizes: MADE hidden widths.

    Example:
        >>> prior = FlowPrior(2, num_layers=2, hidden_sizes=[8])
        >>> p = prior()
        >>> p.event_shape, p.log_prob(torch.zeros(3, 4, 2)).shape
        (torch.Size([2]), torch.Size([3, 4]))

    References:
        Papamakarios, Pavlakou & Murray (2017), arXiv:1705.07057; Chen et al. (2017), "Variational
        Lossy Autoencoder", arXiv:1611.02731 (an autoregressive-flow prior in a VAE).
    """

    def __init__(self, latent_dim: int, num_layers: int = 2, hidden_sizes: Sequence[int] | int = (64,)) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.flow = MAF(self.latent_dim, num_layers, _hidden(hidden_sizes))

    def forward(self, encoder: torch.nn.Module | None = None) -> FlowDistribution:
        return self.flow.distribution()
