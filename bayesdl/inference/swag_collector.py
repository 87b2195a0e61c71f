"""A Trainer callback that collects the SWA/SWAG moments of SGD iterates."""

from __future__ import annotations

from typing import Any

import torch

from ..validation import check_positive_int
from .training.callbacks import Callback


class SWAGCollector(Callback):
    """Running first and second moments of the parameters, and the last ``max_rank`` deviations, along SGD.

    After ``start`` optimiser steps, every ``every`` steps the flattened parameters theta_i are folded into
    theta_bar = mean_i theta_i and the mean of theta_i^2, and the deviation theta_i - theta_bar (with the running
    mean after step i) is kept in a ring of the last K = ``max_rank`` columns (Maddox et al. 2019, Algorithm 1).
    The moments live on the parameters' device in float64.

    It implements the Trainer's callback hooks (``on_batch_end``); :meth:`collect` can be called by hand.

    Arguments:
        module: the model being trained (its trainable parameters are tracked, in ``named_parameters`` order).
        start: optimiser steps before the first snapshot.
        every: steps between snapshots (e.g. the number of batches per epoch for one snapshot per epoch).
        max_rank: K, the number of deviation columns kept for the low-rank covariance.

    References:
        Izmailov, Podoprikhin, Garipov, Vetrov & Wilson (2018), Averaging Weights Leads to Wider Optima and Better
        Generalization, arXiv:1803.05407; Maddox, Garipov, Izmailov, Vetrov & Wilson (2019), A Simple Baseline for
        Bayesian Uncertainty in Deep Learning, arXiv:1902.02476.
    """

    def __init__(self, module: torch.nn.Module, start: int = 0, every: int = 1, max_rank: int = 20) -> None:
        self.module = module
        self.start = check_positive_int(start, "start", minimum=0)
        self.every = check_positive_int(every, "every")
        self.max_rank = check_positive_int(max_rank, "max_rank")
        self.names = [n for n, p in module.named_parameters() if p.requires_grad]
        self.steps = 0
        self.num_snapshots = 0
        self.mean: torch.Tensor | None = None
        self.square_mean: torch.Tensor | None = None
        self.deviations: list[torch.Tensor] = []

    def _flat(self) -> torch.Tensor:
        params = dict(self.module.named_parameters())
        return torch.cat([params[n].detach().reshape(-1) for n in self.names]).double()

    def collect(self) -> None:
        """Fold the current parameters into the moments."""
        theta = self._flat()
        n = self.num_snapshots
        if self.mean is None:
            self.mean, self.square_mean = theta.clone(), theta**2
        else:
            self.mean.mul_(n / (n + 1)).add_(theta / (n + 1))
            self.square_mean.mul_(n / (n + 1)).add_(theta**2 / (n + 1))
        self.num_snapshots = n + 1
        self.deviations.append(theta - self.mean)
        if len(self.deviations) > self.max_rank:
            self.deviations.pop(0)

    def after_step(self) -> None:
        self.steps += 1
        if self.steps > self.start and (self.steps - self.start) % self.every == 0:
            self.collect()

    # the one Trainer hook it needs; the others are the base class's no-ops
    def on_batch_end(self, trainer: Any, epoch: int, batch_index: int, loss: float) -> None:
        self.after_step()
