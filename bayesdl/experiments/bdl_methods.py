"""The uncertainty methods that ``bdl-benchmark`` compares, each built on the same base network and trained by the
shared Trainer, and each returned as something :func:`bayesdl.inference.predictive.predict` answers.

Not an experiment itself. In-training methods (MAP, MC dropout, ensembles, Bayes by Backprop) come from
:mod:`~bayesdl.experiments.bnn_methods`; this module adds the post-hoc ones (Laplace, SWAG, MultiSWAG), cyclical
SGHMC, the two GPs (SVGP and deep kernel learning) and NUTS over a small net.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..inference import Trainer
from ..inference.mcmc import sample_posterior
from ..inference.sgmcmc import SGHMC, CyclicalSchedule, SampleCollector
from ..inference.swag_collector import SWAGCollector
from ..models.gp import DeepKernelGP, SparseVariationalGP
from ..models.laplace import Laplace
from ..models.nets import MLP
from ..models.pyro_bnn import PyroPosterior, to_pyro_model
from ..models.sampled import SampledNetwork
from ..models.supervised import PlainNet
from ..models.swag import SWAG, MultiSWAG
from .bnn_methods import LABELS as IN_TRAINING_LABELS
from .bnn_methods import train_method

#: every method, in table order; "nuts" runs on regression tasks only (a small net)
METHODS = (
    "map",
    "mc_dropout",
    "ensemble",
    "bbb",
    "laplace_kfac",
    "laplace_diag",
    "swag",
    "multiswag",
    "sghmc",
    "svgp",
    "dkl",
    "nuts",
)
LABELS = {
    "map": "MAP",
    "mc_dropout": IN_TRAINING_LABELS["mc_dropout"],
    "ensemble": IN_TRAINING_LABELS["ensemble"],
    "bbb": IN_TRAINING_LABELS["bbb"],
    "laplace_kfac": "Laplace (last layer, KFAC, GLM)",
    "laplace_diag": "Laplace (all weights, diagonal, GLM)",
    "swag": "SWAG",
    "multiswag": "MultiSWAG",
    "sghmc": "cyclical SGHMC",
    "svgp": "SVGP",
    "dkl": "DKL",
    "nuts": "NUTS (small net)",
}


@dataclass(frozen=True)
class Budget:
    """How long each method trains, on one task.

    Attributes:
        epochs: training epochs of every network (SWAG and SGHMC continue from the same budget).
        batch_size: the minibatch size.
        lr: Adam's learning rate.
        members: ensemble and MultiSWAG members.
        predictive_samples: Monte Carlo samples of each predictive.
        inducing: inducing points of the GPs.
        gp_epochs: epochs of the GPs.
        nuts_draws: NUTS warm-up and draws per chain (4 chains).
        nuts_depth: NUTS's maximum tree depth.
        swag_lr: the learning rate of the SGD (momentum 0.9) that collects the SWAG moments.
        sghmc_lr: the step size of cyclical SGHMC at the top of each cycle (on the per-example mean loss, so with
            friction 0.1 it moves like SGD with momentum 0.9 at this rate).
    """

    epochs: int = 100
    batch_size: int = 100
    lr: float = 1e-3
    members: int = 5
    predictive_samples: int = 50
    inducing: int = 100
    gp_epochs: int = 100
    nuts_draws: int = 300
    nuts_depth: int = 7
    sghmc_lr: float = 0.05
    swag_lr: float = 1e-3


def _trainer_args(budget: Budget, ctx: Any, label: str) -> dict[str, Any]:
    return dict(
        epochs=budget.epochs,
        batch_size=budget.batch_size,
        device=ctx.device,
        progress=ctx.progress_label(label),
    )


def _swag(
    make_net: Callable[[float], nn.Module],
    likelihood: str,
    data: tuple[torch.Tensor, ...],
    budget: Budget,
    ctx: Any,
    seed: int,
) -> SWAG:
    """Pre-train with Adam for 3/4 of the budget, then collect SWAG moments with SGD over the last quarter."""
    model = PlainNet(make_net(0.0), likelihood)
    Trainer(
        model,
        lr=budget.lr,
        seed=seed,
        **{**_trainer_args(budget, ctx, "training SWAG"), "epochs": max(1, 3 * budget.epochs // 4)},
    ).fit(data)
    steps_per_epoch = max(1, math.ceil(len(data[0]) / budget.batch_size))
    collector = SWAGCollector(model, start=0, every=steps_per_epoch, max_rank=20)
    swa_epochs = max(3, budget.epochs // 4)
    # SGD is not scale-free like Adam: with a learned regression noise the gradients grow as 1/sigma^2, so the
    # regression budgets collect at a lower rate (at the Adam rate 3e-3 the SWA mean on the gap set left the data)
    Trainer(
        model,
        optimizer="sgd",
        lr=budget.swag_lr,
        optimizer_kwargs={"momentum": 0.9},
        seed=seed + 1,
        callbacks=[collector],
        **{**_trainer_args(budget, ctx, "collecting SWAG moments"), "epochs": swa_epochs},
    ).fit(data)
    return SWAG(model, collector, covariance="lowrank" if collector.num_snapshots > 2 else "diag")


def _sghmc(
    make_net: Callable[[float], nn.Module],
    likelihood: str,
    data: tuple[torch.Tensor, ...],
    budget: Budget,
    ctx: Any,
    seed: int,
) -> SampledNetwork:
    """Cyclical SGHMC (Zhang et al. 2020) from a MAP start: 4 cycles, the last 20% of each cycle sampling."""
    model = PlainNet(make_net(0.0), likelihood)
    Trainer(
        model,
        lr=budget.lr,
        seed=seed,
        **{**_trainer_args(budget, ctx, "SGHMC start"), "epochs": max(1, budget.epochs // 2)},
    ).fit(data)
    per_epoch = max(1, math.ceil(len(data[0]) / budget.batch_size))
    epochs = max(math.ceil(40 / per_epoch), budget.epochs // 2)  # at least 10 steps per cycle
    steps = per_epoch * epochs
    sampler = SGHMC(
        list(model.parameters()),
        lr=budget.sghmc_lr,
        num_data=len(data[0]),
        prior_precision=1.0,
        friction=0.1,
        generator=torch.Generator(device=data[0].device).manual_seed(seed),
    )
    schedule = CyclicalSchedule(sampler, total_steps=steps, num_cycles=4, exploration=0.8)
    thin = max(1, steps // 200)
    collector = SampleCollector(model, burn_in=0, thin=thin, schedule=schedule)
    Trainer(
        model,
        optimizer=lambda params: sampler,
        lr=budget.sghmc_lr,
        seed=seed + 1,
        callbacks=[collector],
        **{**_trainer_args(budget, ctx, "cyclical SGHMC"), "epochs": epochs},
    ).fit(data)
    return SampledNetwork(model, [collector.draws])


def _gp(
    method: str, data: tuple[torch.Tensor, ...], classes: int | None, budget: Budget, ctx: Any, seed: int
) -> nn.Module:
    x = data[0]
    likelihood = "gaussian" if classes is None else "softmax"
    inducing = min(budget.inducing, len(x))
    if method == "svgp":
        model = SparseVariationalGP(
            num_inputs=x.shape[1], num_inducing=inducing, likelihood=likelihood, num_classes=classes
        )
    else:
        model = DeepKernelGP(
            num_features=4 if classes is None else 10,
            num_inducing=inducing,
            likelihood=likelihood,
            num_classes=classes,
            num_inputs=x.shape[1],
            hidden_sizes=[64, 64],
        )
    model.initialize_inducing_points(x)
    Trainer(
        model,
        lr=0.01,
        seed=seed,
        **{**_trainer_args(budget, ctx, f"training {LABELS[method]}"), "epochs": budget.gp_epochs},
    ).fit(data)
    return model


def _nuts(data: tuple[torch.Tensor, ...], budget: Budget, ctx: Any, seed: int) -> PyroPosterior:
    """NUTS over all weights of a 10-unit tanh net (float64), the reference for the small regression tasks."""
    x, y = data
    model = to_pyro_model(
        MLP(x.shape[1], [10], 1, activation="tanh"), prior_scale=1.0, likelihood="homoscedastic"
    )
    model = model.double().to(ctx.device)
    post = sample_posterior(
        model,
        x.double(),
        y.double(),
        num_chains=4,
        num_warmup=budget.nuts_draws,
        num_samples=budget.nuts_draws,
        seed=seed,
        progress=ctx.progress,
        max_tree_depth=budget.nuts_depth,
    )
    return PyroPosterior(model, samples=post.flat_samples())


def build_method(
    method: str,
    make_net: Callable[[float], nn.Module],
    likelihood: str,
    data: tuple[torch.Tensor, ...],
    budget: Budget,
    ctx: Any,
    seed: int,
    classes: int | None = None,
) -> Any:
    """Train ``method`` on ``data`` and return a predictor for :func:`~bayesdl.inference.predictive.predict`.

    Arguments:
        method: one of :data:`METHODS`.
        make_net: ``dropout -> network``, the base network every method shares.
        likelihood: "categorical" or "homoscedastic".
        data: ``(x, y)``, the training data.
        budget: the training budget.
        ctx: the run context (device, progress).
        seed: the seed of this repetition.
        classes: the number of classes (classification), or None (regression).

    Everything a method draws from torch's global generator (the initial weights of ``make_net``, dropout masks)
    comes from a stream seeded with ``seed`` and forked from the caller's, so a method's result depends only on its
    seed, not on which methods ran before it, and the caller's generator is left as it was.
    """
    devices = [ctx.device] if torch.device(ctx.device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        return _build(method, make_net, likelihood, data, budget, ctx, seed, classes)


def _build(
    method: str,
    make_net: Callable[[float], nn.Module],
    likelihood: str,
    data: tuple[torch.Tensor, ...],
    budget: Budget,
    ctx: Any,
    seed: int,
    classes: int | None,
) -> Any:
    args = dict(epochs=budget.epochs, batch_size=budget.batch_size, lr=budget.lr)
    shared = dataclasses.replace(ctx, seed=seed)
    if method in ("map", "mc_dropout", "ensemble", "bbb"):
        return train_method(
            "plain" if method == "map" else method,
            make_net,
            likelihood,
            data,
            ctx=shared,
            num_members=budget.members,
            **args,
        )
    if method in ("laplace_kfac", "laplace_diag"):
        base = train_method("plain", make_net, likelihood, data, ctx=shared, **args)
        kind = "classification" if classes is not None else "regression"
        if method == "laplace_kfac":
            la = Laplace(base, likelihood=kind, subset="last_layer", hessian="kron")
        else:
            la = Laplace(base, likelihood=kind, subset="all", hessian="diag")
        return la.fit(data).optimize_prior_precision("marglik")
    if method == "swag":
        return _swag(make_net, likelihood, data, budget, ctx, seed)
    if method == "multiswag":
        return MultiSWAG(
            [_swag(make_net, likelihood, data, budget, ctx, seed + 1000 * k) for k in range(budget.members)]
        )
    if method == "sghmc":
        return _sghmc(make_net, likelihood, data, budget, ctx, seed)
    if method in ("svgp", "dkl"):
        return _gp(method, data, classes, budget, ctx, seed)
    if method == "nuts":
        return _nuts(data, budget, ctx, seed)
    raise ValueError(f"unknown method {method!r}")
