"""A flow prior p(z) for the VAE: a standard Normal pushed through an invertible MAF or autoregressive NSF.

The VAE evaluates log p(z) at codes drawn from the posterior, so the prior needs a density at any
point in one pass: MAF (Papamakarios et al. 2017, arXiv:1705.07057) and the autoregressive neural
spline flow (Durkan et al. 2019, arXiv:1906.04032; splines on [-5, 5], identity outside) give it, with
log p(z) = log N(f(z); 0, I) + log|det df/dz|, f the data-to-noise map. Sampling from the prior
(``VAE.sample``) takes L network passes, cheap for the usual latent sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

from ...deprecation import renamed_arguments
from ...io import serializable
from ...validation import check_choice, check_positive_int
from ..flows import MAF, Flow, FlowDistribution, NSFAutoregressive
from .encoders import _hidden
from .priors import Prior


@renamed_arguments(keywords={"num_transforms": "num_layers", "hidden_dims": "hidden_sizes"})
@serializable
class FlowPrior(Prior):
    """p(z) = MAF or autoregressive-spline density on R^L with a standard-Normal base.

    Arguments:
        latent_dim: L.
        num_layers: the number of MADE layers (``num_transforms`` is the deprecated name).
        hidden_sizes: MADE hidden widths.
        flow: "maf" (affine layers; the prior starts as N(0, I)) or "nsf" (rational-quadratic spline
            layers, :class:`~bayesdl.models.flows.NSFAutoregressive` with its default 8 bins on [-5, 5]).

    Example:
        >>> prior = FlowPrior(2, num_layers=2, hidden_sizes=[8])
        >>> p = prior()
        >>> p.event_shape, p.log_prob(torch.zeros(3, 4, 2)).shape
        (torch.Size([2]), torch.Size([3, 4]))
        >>> FlowPrior(2, flow="nsf")().log_prob(torch.zeros(3, 2)).shape
        torch.Size([3])

    References:
        Papamakarios, Pavlakou & Murray (2017), arXiv:1705.07057; Chen et al. (2017), "Variational
        Lossy Autoencoder", arXiv:1611.02731 (an autoregressive-flow prior in a VAE); Durkan, Bekasov,
        Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032.
    """

    def __init__(
        self,
        latent_dim: int,
        num_layers: int = 2,
        hidden_sizes: Sequence[int] | int = (64,),
        flow: Literal["maf", "nsf"] = "maf",
    ) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        build = MAF if check_choice(flow, "flow", ("maf", "nsf")) == "maf" else NSFAutoregressive
        self.flow: Flow = build(self.latent_dim, num_layers, _hidden(hidden_sizes))

    def forward(self, encoder: torch.nn.Module | None = None) -> FlowDistribution:
        return self.flow.distribution()
