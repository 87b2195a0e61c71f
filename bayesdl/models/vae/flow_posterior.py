"""A normalizing-flow posterior q(z|x) for the VAE: an amortised Gaussian pushed through K flow steps.

The encoder body maps x to features h(x). The first stage is z_0 ~ N(mu(h), diag sigma(h)^2); the
steps z_k = g_k(z_{k-1}; h) follow, and the density of the final z_K is, by the change of variables,

    log q_K(z_K | x) = log q_0(z_0 | x) - sum_k log|det dg_k / dz_{k-1}|

(Rezende & Mohamed 2015, arXiv:1505.05770, eq. 6-7; the seed notes have the sign of the sum wrong).
Steps (all from :mod:`bayesdl.nn.flows`):

* ``"iaf"``: inverse autoregressive steps on MADE whose hidden layer also sees h (Kingma et al. 2016,
  arXiv:1606.04934, sec. 4), one network pass per step in the sampling direction;
* ``"nsf"``: rational-quadratic spline couplings (Durkan et al. 2019, arXiv:1906.04032) whose MLPs also
  see h, one network pass per step in both directions (:class:`bayesdl.models.flows.NSFCoupling`), so
  ``log_prob`` of other points is also one pass; the latent needs L >= 2. The splines act on [-5, 5]
  and are the identity outside, so codes beyond it are handled (with log-det 0 there);
* ``"planar"`` / ``"radial"``: planar or radial layers (Rezende & Mohamed 2015). Their parameters are
  shared across examples (only the Gaussian stage is amortised), unlike the paper, where an encoder
  outputs them per example.

The distribution is a :class:`bayesdl.models.flows.FlowDistribution`: ``rsample`` runs the sampling
direction once and caches the log-density of its draws, so ``log_prob`` right after ``rsample`` (as in
the ELBO, the IWAE bound and the estimators) costs nothing; ``log_prob`` of other points inverts the
steps (IAF: D passes; planar: bisection). There is no closed-form KL to any prior, so the VAE uses the
Monte Carlo KL on the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, get_args

import torch

from ...deprecation import renamed_arguments
from ...io import serializable
from ...nn.flows import FlowSequence, Planar, Radial
from ...validation import check_choice, check_positive_int
from ..flows import IAF, Flow, FlowDistribution, NSFCoupling
from .encoders import _hidden, mlp

FlowKind = Literal["iaf", "nsf", "planar", "radial"]
FLOW_KINDS: tuple[str, ...] = get_args(FlowKind)


class AmortisedBaseFlow(Flow):
    """A flow whose base is N(mu(h), sigma(h)^2) given a context h; the steps ignore h (planar, radial)."""

    def __init__(self, transform: FlowSequence, features: int, context_size: int) -> None:
        super().__init__()
        self._setup(transform, (features,), context_size, conditional_base=True)


@renamed_arguments(keywords={"hidden_dims": "hidden_sizes", "flow_hidden_dims": "flow_hidden_sizes"})
@serializable
class FlowPosteriorEncoder(torch.nn.Module):
    """q(z|x): a Gaussian from an MLP on x, then ``num_flows`` IAF, spline-coupling, planar or radial steps.

    Arguments:
        data_shape: the shape of one example (flattened inside).
        latent_dim: L.
        hidden_sizes: widths of the encoder MLP; the last one is the width of the context h(x).
        flow: "iaf", "nsf" (spline couplings, latent_dim >= 2), "planar" or "radial".
        num_flows: the number of flow steps K.
        flow_hidden_sizes: MADE hidden widths of each IAF step, or MLP widths of each spline coupling
            (ignored for planar and radial).
        input_scale: x is multiplied by this before the first layer.
        seed: seed of the planar/radial initial parameters.

    Example:
        >>> enc = FlowPosteriorEncoder([6], latent_dim=2, hidden_sizes=[8], flow="iaf", num_flows=2, flow_hidden_sizes=[8])
        >>> q = enc(torch.rand(5, 6))
        >>> z = q.rsample(torch.Size([3]))
        >>> z.shape, q.log_prob(z).shape
        (torch.Size([3, 5, 2]), torch.Size([3, 5]))

    References:
        Rezende & Mohamed (2015), "Variational Inference with Normalizing Flows", arXiv:1505.05770;
        Kingma et al. (2016), "Improved Variational Inference with Inverse Autoregressive Flow", arXiv:1606.04934;
        Durkan, Bekasov, Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        hidden_sizes: Sequence[int] | int = (400,),
        flow: FlowKind = "iaf",
        num_flows: int = 2,
        flow_hidden_sizes: Sequence[int] | int = (64,),
        input_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.data_shape = tuple(check_positive_int(int(s), "data_shape") for s in data_shape)
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.flow_kind = str(check_choice(flow, "flow", FLOW_KINDS))
        self.num_flows = check_positive_int(num_flows, "num_flows")
        self.input_scale = float(input_scale)
        hidden = _hidden(hidden_sizes)
        self.body = torch.nn.Sequential(mlp([math.prod(self.data_shape), *hidden]), torch.nn.ReLU())
        context = hidden[-1]
        if self.flow_kind == "iaf":
            self.flow: Flow = IAF(
                self.latent_dim,
                self.num_flows,
                _hidden(flow_hidden_sizes),
                context_size=context,
                conditional_base=True,
            )
        elif self.flow_kind == "nsf":
            check_positive_int(
                self.latent_dim, "latent_dim (a spline-coupling posterior needs at least 2)", minimum=2
            )
            self.flow = NSFCoupling(
                self.latent_dim,
                self.num_flows,
                _hidden(flow_hidden_sizes),
                context_size=context,
                conditional_base=True,
            )
        else:
            layer = Planar if self.flow_kind == "planar" else Radial
            steps = FlowSequence([layer(self.latent_dim, seed=seed + i) for i in range(self.num_flows)])
            self.flow = AmortisedBaseFlow(steps, self.latent_dim, context)

    def context(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder features h(x) [..., H] that condition the base and the IAF steps."""
        flat = x.reshape(*x.shape[: x.dim() - len(self.data_shape)], -1)
        return self.body(flat.to(self.flow.base.anchor.dtype) * self.input_scale)

    def forward(self, x: torch.Tensor) -> FlowDistribution:
        return self.flow.distribution(self.context(x))
