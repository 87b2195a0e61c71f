"""Stochastic gradient Langevin dynamics, plain and RMSprop-preconditioned."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ...validation import check_positive_float
from .base import StochasticGradientSampler


class SGLD(StochasticGradientSampler):
    """Stochastic gradient Langevin dynamics (Welling & Teh 2011), in per-example units.

    theta <- theta - lr (g + delta theta / N) + sqrt(2 lr T / N) xi,  xi ~ N(0, I),

    with g the minibatch gradient of the mean loss per example. This is Welling & Teh's update with step size
    epsilon = 2 lr / N on the full-data potential U, so that for small lr the draws follow p(theta | D)^(1/T); the
    discretisation error is O(lr). T < 1 gives the cold posteriors studied by Wenzel et al. (2020,
    arXiv:2002.02405).

    Arguments:
        params: the parameters to sample.
        lr: the step size per example (the same units as an SGD learning rate on the mean loss).
        num_data: N, the number of training examples.
        prior_precision: delta of an isotropic N(0, 1/delta) prior on every parameter (0 for a flat prior).
        temperature: T > 0.
        generator: a torch.Generator for the noise (the global generator when None).

    Example:
        >>> theta = torch.nn.Parameter(torch.zeros(2))
        >>> sampler = SGLD([theta], lr=1e-3, num_data=100)
        >>> theta.grad = torch.ones(2); sampler.step(); theta.shape
        torch.Size([2])

    References:
        Welling & Teh (2011), Bayesian Learning via Stochastic Gradient Langevin Dynamics, ICML.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float,
        num_data: int,
        prior_precision: float = 1.0,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(
            params,
            dict(lr=lr, num_data=num_data, prior_precision=prior_precision, temperature=temperature),
            generator,
        )

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 - torch's signature
        loss = None if closure is None else closure()
        for group in self.param_groups:
            lr, scale = group["lr"], math.sqrt(2.0 * group["lr"] * group["temperature"] / group["num_data"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.add_(self._drift(p, group), alpha=-lr)
                if group["noise"]:
                    p.add_(self._noise_like(p), alpha=scale)
        self._check_finite()
        return loss


class PreconditionedSGLD(StochasticGradientSampler):
    """SGLD with the RMSprop preconditioner of Li, Chen, Carlson & Carin (2016).

    V <- beta V + (1 - beta) g^2,  G = 1 / (eps + sqrt(V)),
    theta <- theta - lr G (g + delta theta / N) + sqrt(2 lr T G / N) xi.

    The term Gamma(theta) of the paper (the divergence of G) is omitted, as the authors recommend for slowly
    changing V; the bias this leaves is small for beta near 1.

    Arguments:
        params, lr, num_data, prior_precision, temperature, generator: as for :class:`SGLD`.
        beta: the decay of the squared-gradient average.
        eps: keeps the preconditioner finite where gradients vanish.

    References:
        Li, Chen, Carlson & Carin (2016), Preconditioned Stochastic Gradient Langevin Dynamics for Deep Neural
        Networks, AAAI, arXiv:1512.07666.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float,
        num_data: int,
        prior_precision: float = 1.0,
        temperature: float = 1.0,
        beta: float = 0.99,
        eps: float = 1e-5,
        generator: torch.Generator | None = None,
    ) -> None:
        check_positive_float(eps, "eps")
        super().__init__(
            params,
            dict(
                lr=lr,
                num_data=num_data,
                prior_precision=prior_precision,
                temperature=temperature,
                beta=beta,
                eps=eps,
            ),
            generator,
        )

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "square_avg" not in state:
                    state["square_avg"] = p.grad.square()
                else:
                    state["square_avg"].mul_(group["beta"]).addcmul_(p.grad, p.grad, value=1 - group["beta"])
                precond = 1.0 / (group["eps"] + state["square_avg"].sqrt())
                p.addcmul_(precond, self._drift(p, group), value=-group["lr"])
                if group["noise"]:
                    scale = (2.0 * group["lr"] * group["temperature"] / group["num_data"] * precond).sqrt()
                    p.addcmul_(scale, self._noise_like(p))
        self._check_finite()
        return loss
