"""The cyclical step-size schedule of cSG-MCMC, with exploration and sampling stages."""

from __future__ import annotations

import math

import torch

from ...errors import InputError
from ...validation import check_positive_int


class CyclicalSchedule:
    """Cosine step sizes restarted every cycle: lr_k = lr_0 / 2 (cos(pi r_k) + 1), r_k in [0, 1) the position in the cycle.

    The first ``exploration`` fraction of every cycle runs without noise (the sampler acts as an optimiser and
    moves to a new mode); the rest adds the sampler's noise, and draws are taken there (Zhang et al. 2020, eq. 1 and
    Algorithm 1). Call :meth:`step` once per optimiser step (the :class:`SampleCollector` does it).

    Arguments:
        optimizer: a stochastic-gradient sampler (its param groups' ``lr`` and ``noise`` are set).
        total_steps: K, the number of optimiser steps of the whole run.
        num_cycles: M >= 1.
        exploration: the fraction beta in [0, 1) of each cycle without noise.

    References:
        Zhang, Li, Zhang, Chen & Wilson (2020), Cyclical Stochastic Gradient MCMC for Bayesian Deep Learning,
        arXiv:1902.03932.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        total_steps: int,
        num_cycles: int = 4,
        exploration: float = 0.8,
    ) -> None:
        self.total_steps = check_positive_int(total_steps, "total_steps")
        self.num_cycles = check_positive_int(num_cycles, "num_cycles")
        if not isinstance(exploration, (int, float)) or not 0 <= exploration < 1:
            raise InputError(f"exploration must be in [0, 1), got {exploration!r}")
        if self.num_cycles > self.total_steps:
            raise InputError(f"num_cycles ({num_cycles}) cannot exceed total_steps ({total_steps})")
        self.optimizer = optimizer
        self.exploration = float(exploration)
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.cycle_length = math.ceil(self.total_steps / self.num_cycles)
        self.step_count = 0
        self._apply()

    @property
    def position(self) -> float:
        """r_k: where the next step falls in its cycle, in [0, 1)."""
        return (self.step_count % self.cycle_length) / self.cycle_length

    @property
    def sampling(self) -> bool:
        """True in the sampling stage (noise on) of the current cycle."""
        return self.position >= self.exploration

    @property
    def cycle(self) -> int:
        return self.step_count // self.cycle_length

    def _apply(self) -> None:
        factor = 0.5 * (math.cos(math.pi * self.position) + 1.0)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor
            group["noise"] = self.sampling

    def step(self) -> None:
        self.step_count += 1
        self._apply()
