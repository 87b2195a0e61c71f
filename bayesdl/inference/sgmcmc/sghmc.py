"""Stochastic gradient Hamiltonian Monte Carlo with friction."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ...errors import InputError
from .base import StochasticGradientSampler


class SGHMC(StochasticGradientSampler):
    """Stochastic gradient HMC (Chen, Fox & Guestrin 2014), in the momentum form of their eq. (15).

    v <- (1 - alpha) v - lr (g + delta theta / N) + sqrt(2 alpha lr T / N) xi,   theta <- theta + v,

    with unit mass, friction alpha in (0, 1] (alpha = 1 - momentum of SGD with momentum), and the
    gradient-noise estimate beta-hat = 0. The stationary distribution is p(theta | D)^(1/T) as lr -> 0; the
    discretisation error is O(lr). With a cyclical schedule the noise is switched off in the exploration stage and
    the update is SGD with momentum (Zhang et al. 2020).

    Arguments:
        params, lr, num_data, prior_precision, temperature, generator: as for :class:`SGLD`.
        friction: alpha.

    References:
        Chen, Fox & Guestrin (2014), Stochastic Gradient Hamiltonian Monte Carlo, arXiv:1402.4102; Zhang, Li, Zhang,
        Chen & Wilson (2020), Cyclical Stochastic Gradient MCMC for Bayesian Deep Learning, arXiv:1902.03932.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float,
        num_data: int,
        prior_precision: float = 1.0,
        temperature: float = 1.0,
        friction: float = 0.1,
        generator: torch.Generator | None = None,
    ) -> None:
        if isinstance(friction, bool) or not isinstance(friction, (int, float)) or not 0 < friction <= 1:
            raise InputError(f"friction must be in (0, 1], got {friction!r}")
        super().__init__(
            params,
            dict(
                lr=lr,
                num_data=num_data,
                prior_precision=prior_precision,
                temperature=temperature,
                friction=friction,
            ),
            generator,
        )

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001
        loss = None if closure is None else closure()
        for group in self.param_groups:
            alpha, lr = group["friction"], group["lr"]
            scale = math.sqrt(2.0 * alpha * lr * group["temperature"] / group["num_data"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum" not in state:
                    state["momentum"] = torch.zeros_like(p)
                v = state["momentum"]
                v.mul_(1 - alpha).add_(self._drift(p, group), alpha=-lr)
                if group["noise"]:
                    v.add_(self._noise_like(p), alpha=scale)
                p.add_(v)
        self._check_finite()
        return loss
