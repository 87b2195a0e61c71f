"""The annealed-importance-sampling path of an RBM (Salakhutdinov & Murray 2008), for its log partition function."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ...montecarlo.annealing import AnnealingPath
from ...ops.random_bits import bernoulli

if TYPE_CHECKING:
    from .model import RBM

_LOG_2PI = math.log(2.0 * math.pi)


class RBMAnnealingPath(AnnealingPath):
    """The AIS path of Salakhutdinov & Murray (2008) from a base-rate RBM to the target RBM.

    The base model A has no interactions (W_A = 0) and visible biases b_A (data base rates); the
    intermediate models are f_beta(v) = exp((1 - beta) b_A'v + beta b'v) prod_j (1 + exp(beta (c_j + v'W_{:,j})))
    for Bernoulli units (Gaussian: the visible term is the geometric mixture of N(b_A, I) and the
    target's ||v - b||^2 / 2 term). f_0 / Z_0 has independent visible units and Z_0 = 2^H Z_A;
    f_1 = exp(-F(v)). The transition at beta is one Gibbs sweep of the joint f_beta(v, h):
    h ~ sigmoid(beta (c + v'W)), then v from (1 - beta) b_A + beta (b + W h).

    Log-weight increments are accumulated in float64.
    """

    def __init__(self, rbm: RBM, base_visible_bias: torch.Tensor) -> None:
        self.gaussian = rbm.gaussian
        self.weight = rbm.weight.detach()
        self.visible_bias = rbm.visible_bias.detach()
        self.hidden_bias = rbm.hidden_bias.detach()
        self.base = base_visible_bias.detach().to(self.weight)
        self.num_visible, self.num_hidden = self.weight.shape
        self._bias_gap = (self.visible_bias - self.base).double()
        self._square_gap = 0.5 * float(
            (self.visible_bias.double() ** 2).sum() - (self.base.double() ** 2).sum()
        )
        self._cached: tuple[torch.Tensor, torch.Tensor] | None = None

    def log_z_base(self) -> float:
        hidden = self.num_hidden * math.log(2.0)
        if self.gaussian:
            return hidden + 0.5 * self.num_visible * _LOG_2PI
        return hidden + float(F.softplus(self.base.double()).sum())

    def sample_base(self, num_chains: int, generator: torch.Generator | None) -> torch.Tensor:
        base = self.base.unsqueeze(0).expand(num_chains, -1)
        if self.gaussian:
            return base + torch.randn(base.shape, generator=generator, device=base.device, dtype=base.dtype)
        return bernoulli(torch.sigmoid(base), generator)

    def _logits(self, v: torch.Tensor) -> torch.Tensor:
        if self._cached is not None and self._cached[0] is v:
            return self._cached[1]
        logits = torch.addmm(self.hidden_bias, v, self.weight)
        self._cached = (v, logits)
        return logits

    def _visible_term(self, v: torch.Tensor, beta: float) -> torch.Tensor:
        vd = v.double()
        mix = (1.0 - beta) * self.base.double() + beta * self.visible_bias.double()
        term = vd @ mix
        if self.gaussian:
            term = (
                term
                - 0.5 * (vd**2).sum(-1)
                - 0.5
                * (
                    (1.0 - beta) * float((self.base.double() ** 2).sum())
                    + beta * float((self.visible_bias.double() ** 2).sum())
                )
            )
        return term

    def log_unnormalized(self, v: torch.Tensor, beta: float) -> torch.Tensor:
        return self._visible_term(v, beta) + F.softplus(beta * self._logits(v).double()).sum(-1)

    def log_weight_increment(self, v: torch.Tensor, beta_from: float, beta_to: float) -> torch.Tensor:
        logits = self._logits(v).double()
        visible = (beta_to - beta_from) * (v.double() @ self._bias_gap)
        if self.gaussian:
            visible = visible - (beta_to - beta_from) * self._square_gap
        hidden = (F.softplus(beta_to * logits) - F.softplus(beta_from * logits)).sum(-1)
        return visible + hidden

    def transition(self, v: torch.Tensor, beta: float, generator: torch.Generator | None) -> torch.Tensor:
        h = bernoulli(torch.sigmoid(beta * self._logits(v)), generator)
        pre = (1.0 - beta) * self.base + beta * torch.addmm(self.visible_bias, h, self.weight.t())
        if self.gaussian:
            return pre + torch.randn(pre.shape, generator=generator, device=pre.device, dtype=pre.dtype)
        return bernoulli(torch.sigmoid(pre), generator)
