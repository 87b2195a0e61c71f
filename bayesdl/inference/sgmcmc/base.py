"""What every stochastic-gradient sampler shares: argument checks, the prior gradient, noise and divergence checks."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import torch

from ...errors import InputError
from ...validation import check_positive_float


def check_non_negative(value: object, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or value < 0
    ):
        raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class StochasticGradientSampler(torch.optim.Optimizer):
    """Base class: param groups carry ``lr``, ``num_data`` N, ``prior_precision`` delta, ``temperature`` T and
    ``noise`` (False during the exploration stage of a cyclical schedule: the update is then plain optimisation).

    The gradient a sampler sees is that of the mean loss per example, g = grad (1/B) sum_b -log p(y_b | theta); the
    potential it samples is U(theta) = N g-integrated + delta/2 ||theta||^2, i.e. the drift per example is
    g + delta theta / N. After every step the parameters are checked for NaN or infinity, which means the step size
    is too large for the posterior's curvature.
    """

    def __init__(self, params: Iterable, defaults: dict, generator: torch.Generator | None) -> None:
        check_positive_float(defaults["lr"], "lr")
        check_positive_float(defaults["num_data"], "num_data")
        check_non_negative(defaults["prior_precision"], "prior_precision")
        check_positive_float(defaults["temperature"], "temperature")
        super().__init__(params, {**defaults, "noise": True})
        self.generator = generator
        self.num_steps = 0

    def _noise_like(self, p: torch.Tensor) -> torch.Tensor:
        if self.generator is None:
            return torch.randn_like(p)
        return torch.randn(p.shape, generator=self.generator, dtype=p.dtype, device=self.generator.device).to(
            p.device
        )

    @staticmethod
    def _drift(p: torch.Tensor, group: dict) -> torch.Tensor:
        grad = p.grad
        if group["prior_precision"]:
            grad = grad.add(p, alpha=group["prior_precision"] / group["num_data"])
        return grad

    def _check_finite(self) -> None:
        self.num_steps += 1
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        if params and not bool(torch.isfinite(torch.stack(torch._foreach_norm(params))).all()):
            lr = self.param_groups[0]["lr"]
            raise InputError(
                f"the {type(self).__name__} chain diverged at step {self.num_steps}: the parameters are no longer finite. "
                f"The step size lr={lr:g} is too large for this posterior; reduce it (or its cyclical maximum)"
            )
