"""Shared set-up of the uncertainty-aware methods compared by the ``bnn-regression`` and ``bnn-classification`` experiments.

Not an experiment itself: it builds and trains, with the shared trainer, a plain network, MC dropout, a deep
ensemble and Bayes by Backprop on the same architecture, so both experiments compare like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..inference import Trainer, fit_ensemble
from ..models.bnn_bbb import BayesByBackprop
from ..models.ensemble import DeepEnsemble
from ..models.mc_dropout import MCDropout
from ..models.supervised import PlainNet
from ..nn.priors import GaussianPrior


@dataclass(frozen=True)
class NetSettings:
    """The MLP every method shares on one data set.

    Attributes:
        hidden: the hidden layer widths.
        dropout: the dropout rate of MC dropout (the other methods use none).
    """

    hidden: tuple[int, ...] = (200, 200)
    dropout: float = 0.2


METHODS = ("plain", "mc_dropout", "ensemble", "bbb")
LABELS = {
    "plain": "plain net",
    "mc_dropout": "MC dropout",
    "ensemble": "deep ensemble",
    "bbb": "Bayes by Backprop",
}


def train_method(
    method: str,
    make_net: Callable[[float], nn.Module],
    likelihood: str,
    data: tuple[torch.Tensor, ...],
    epochs: int,
    batch_size: int,
    lr: float,
    ctx: Any,
    dropout: float = 0.1,
    num_members: int = 5,
    weight_decay: float = 1e-4,
    prior_sigma: float = 1.0,
) -> nn.Module:
    """Build ``method`` on ``make_net(dropout)`` and train it on ``data`` with the shared trainer; returns the model."""
    common = dict(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        device=ctx.device,
        progress=ctx.progress_label(f"training {LABELS[method]}"),
    )
    if method == "plain":
        model: nn.Module = PlainNet(make_net(0.0), likelihood)
        Trainer(model, seed=ctx.seed, **common).fit(data)
    elif method == "mc_dropout":
        model = MCDropout(make_net(dropout), likelihood)
        Trainer(model, seed=ctx.seed, optimizer_kwargs={"weight_decay": weight_decay}, **common).fit(data)
    elif method == "ensemble":
        model = DeepEnsemble(make_net(0.0), num_members=num_members, likelihood=likelihood, seed=ctx.seed)
        fit_ensemble(model, data, **common)
    elif method == "bbb":
        model = BayesByBackprop(
            make_net(0.0), likelihood, prior=GaussianPrior(prior_sigma), estimator="local_reparam"
        )
        Trainer(model, seed=ctx.seed, **common).fit(data)
    else:
        raise ValueError(f"unknown method {method!r}")
    return model.to(ctx.device)
