"""A Trainer callback that keeps parameter draws of a stochastic-gradient sampler."""

from __future__ import annotations

from typing import Any

import torch

from ...validation import check_positive_int
from ..training.callbacks import Callback
from .cyclical import CyclicalSchedule


class SampleCollector(Callback):
    """Keep a copy of ``module``'s parameters every ``thin`` optimiser steps after ``burn_in`` steps.

    With a :class:`CyclicalSchedule` it also advances the schedule after each step and keeps draws only in the
    sampling stages. Draws are stored on the CPU as ``{name: tensor}`` dicts in :attr:`draws`; use
    ``SampledNetwork(model, [collector.draws])`` (several collectors = several chains) for predictions.

    It implements the Trainer's callback hooks (``on_batch_end``); it can also be called by hand after each step of
    a plain loop via :meth:`after_step`.

    Arguments:
        module: the model whose parameters the sampler moves.
        burn_in: optimiser steps to discard first.
        thin: keep every ``thin``-th step after burn-in.
        schedule: an optional cyclical schedule to advance.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        burn_in: int = 0,
        thin: int = 1,
        schedule: CyclicalSchedule | None = None,
    ) -> None:
        self.module = module
        self.burn_in = check_positive_int(burn_in, "burn_in", minimum=0)
        self.thin = check_positive_int(thin, "thin")
        self.schedule = schedule
        self.steps = 0
        self.draws: list[dict[str, torch.Tensor]] = []

    def after_step(self) -> None:
        sampling = True if self.schedule is None else self.schedule.sampling
        self.steps += 1
        if sampling and self.steps > self.burn_in and (self.steps - self.burn_in) % self.thin == 0:
            self.draws.append({n: p.detach().to("cpu", copy=True) for n, p in self.module.named_parameters()})
        if self.schedule is not None:
            self.schedule.step()

    # the one Trainer hook it needs; the others are the base class's no-ops
    def on_batch_end(self, trainer: Any, epoch: int, batch_index: int, loss: float) -> None:
        self.after_step()
