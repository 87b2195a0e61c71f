"""Shared pieces of the RBM experiments: train one RBM through the Trainer, score it with AIS, plot it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..inference import RBMMonitor, Trainer
from ..models.rbm import RBM
from .image_grid import tile
from .registry import RunContext
from .style import IMAGE_CMAP


@dataclass(frozen=True)
class RbmSettings:
    """Settings shared by the RBM experiments (``--set hidden=200 --set ais_betas=20000`` and so on).

    Attributes:
        hidden: hidden units of every compared RBM.
        epochs: training epochs (SGD with momentum, cosine-annealed learning rate).
        lr: the initial learning rate.
        batch_size: the minibatch size (and the number of persistent chains of PCD).
        momentum: SGD momentum.
        weight_decay: L2 weight decay of the RBM's gradient.
        ais_chains: AIS runs for log Z.
        ais_betas: AIS inverse temperatures, including 0 and 1.
        gibbs_steps: Gibbs sweeps shown in the chain figures.
        num_train: training images (None: all).
        num_test: test images scored (None: all).
    """

    hidden: int = 100
    epochs: int = 300
    lr: float = 0.05
    batch_size: int = 20
    momentum: float = 0.5
    weight_decay: float = 1e-4
    ais_chains: int = 100
    ais_betas: int = 14500
    gibbs_steps: int = 1000
    num_train: int | None = None
    num_test: int | None = None

    def training(self) -> dict[str, Any]:
        """The keyword arguments of :func:`train_rbm` that these settings fix."""
        return dict(
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
        )


def binarised_splits(load: Any, cfg: RbmSettings, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training and test images of ``load`` (a data loader taking ``split, binarize, seed``), statically binarised with
    different seeds and cut to ``cfg.num_train`` and ``cfg.num_test``."""
    x_train, _ = load("train", binarize="static", seed=seed)
    x_test, _ = load("test", binarize="static", seed=seed + 1)
    return x_train[: cfg.num_train], x_test[: cfg.num_test]


def train_and_score(
    ctx: RunContext,
    cfg: RbmSettings,
    x_train: torch.Tensor,
    x_test: torch.Tensor,
    methods: tuple[tuple[str, str, int], ...],
    monitor: torch.Tensor,
    score_train: torch.Tensor,
) -> tuple[dict[str, RBM], dict[str, Any], dict[str, dict[str, Any]]]:
    """Train one RBM per ``(label, method, k)`` and score each by AIS; returns the models, histories and scores."""
    models, histories, scores = {}, {}, {}
    for label, method, k in methods:
        rbm, history, secs = train_rbm(
            ctx, x_train, num_hidden=cfg.hidden, method=method, k=k, monitor_data=monitor, **cfg.training()
        )
        models[label], histories[label] = rbm, history
        progress = ctx.progress_label(
            f"AIS log Z ({label}, {cfg.ais_chains} chains x {cfg.ais_betas} temperatures)"
        )
        scores[label] = score_rbm(
            rbm,
            score_train,
            x_test,
            num_chains=cfg.ais_chains,
            num_betas=cfg.ais_betas,
            seed=ctx.seed,
            progress=progress,
        )
        scores[label]["train_seconds"] = secs
        scores[label]["final_monitor_reconstruction_error"] = history.records[-1][
            "monitor_reconstruction_error"
        ]
        scores[label]["final_monitor_pseudo_log_likelihood"] = history.records[-1][
            "monitor_pseudo_log_likelihood"
        ]
    return models, histories, scores


def train_rbm(
    ctx: RunContext,
    x_train: torch.Tensor,
    *,
    num_hidden: int,
    method: str,
    k: int,
    epochs: int,
    lr: float,
    batch_size: int,
    momentum: float = 0.5,
    weight_decay: float = 1e-4,
    monitor_data: torch.Tensor | None = None,
) -> tuple[RBM, Any, float]:
    """Train an RBM with SGD + momentum through the shared Trainer; return it, its history and the seconds taken.

    The learning rate is annealed to zero over the epochs (cosine schedule): PCD needs a decaying
    rate to settle (Tieleman 2008 decays it linearly); with a constant rate its persistent chains
    chase an oscillating model and the likelihood falls behind CD-1 on long runs.
    """
    rbm = RBM(
        x_train.shape[1],
        num_hidden,
        method=method,
        k=k,
        num_chains=batch_size,
        weight_decay=weight_decay,
        seed=ctx.seed,
    ).init_from_data(x_train)
    callbacks = [RBMMonitor(rbm, monitor_data)] if monitor_data is not None else []
    trainer = Trainer(
        rbm,
        optimizer="sgd",
        lr=lr,
        optimizer_kwargs={"momentum": momentum},
        epochs=epochs,
        batch_size=batch_size,
        device=ctx.device,
        progress=ctx.progress_label(f"training RBM ({method.upper()}-{k}, {num_hidden} hidden)"),
        seed=ctx.seed,
        callbacks=callbacks,
        scheduler="cosine",
    )
    start = time.perf_counter()
    history = trainer.fit(x_train)
    return rbm, history, time.perf_counter() - start


def score_rbm(
    rbm: RBM,
    x_train: torch.Tensor,
    x_test: torch.Tensor,
    *,
    num_chains: int,
    num_betas: int,
    seed: int,
    progress: bool | str = False,
) -> dict[str, float]:
    """Estimate log Z (exactly when a layer has <= 20 units, else by AIS) and the mean log-likelihoods in nats."""
    start = time.perf_counter()
    est = rbm.log_partition("auto", num_chains=num_chains, num_betas=num_betas, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    device = rbm.weight.device
    test_lp = rbm.log_prob(x_test.to(device)).double().cpu()
    train_lp = rbm.log_prob(x_train.to(device)).double().cpu()
    return {
        "test_log_likelihood": float(test_lp.mean()),
        "test_log_likelihood_sem": float(test_lp.std() / math.sqrt(len(test_lp))),
        "train_log_likelihood": float(train_lp.mean()),
        "log_z": est.log_z,
        "log_z_std_err": est.log_z_std_err,
        "log_z_upper_3sigma": est.log_z_upper,
        "log_z_method": est.method,
        "log_z_seconds": seconds,
        "ais_chains": est.num_chains,
        "ais_betas": est.num_betas,
    }


def plot_filters(ctx: RunContext, models: dict[str, RBM], side: int, count: int, name: str) -> None:
    """Show the first ``count`` weight vectors W[:, j] of every model as side x side images."""
    cols = min(count, 10)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(
        1, len(models), figsize=(4 * len(models), 0.45 * rows * 10 / cols + 0.8), squeeze=False
    )
    for ax, (label, rbm) in zip(axes[0], models.items()):
        w = rbm.weight.detach().cpu().t()[:count]
        w = w / w.abs().amax(1, keepdim=True).clamp_min(1e-12)  # each filter on its own colour scale
        ax.imshow(tile(w, cols, fill=float("nan")).numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    fig.suptitle(
        "filters: columns of W as images (red > 0, blue < 0; each scaled to its max |w|)", fontsize=9
    )
    ctx.save_figure(fig, name, "First hidden units' weights, reshaped as images, for each training method")


def plot_chains(
    ctx: RunContext, rbm: RBM, side: int, num_chains: int, num_steps: int, label: str, name: str
) -> None:
    """Binary states of a few Gibbs chains (rows) at evenly spaced sweeps (columns)."""
    gen = torch.Generator(device=rbm.weight.device).manual_seed(ctx.seed)
    start = rbm._sample_base(num_chains, gen)
    every = max(1, num_steps // 10)
    chain = rbm.gibbs_chain(start, num_steps, record_every=every, generator=gen)
    trace = chain.trace.cpu()  # [snapshots, chains, D]
    snaps = trace.shape[0]
    fig, ax = plt.subplots(figsize=(0.8 * snaps + 0.5, 0.8 * num_chains + 0.6))
    ax.imshow(
        tile(trace.transpose(0, 1).reshape(-1, trace.shape[2]), snaps, fill=float("nan")).numpy(),
        cmap=IMAGE_CMAP,
        vmin=0,
        vmax=1,
    )
    ax.set_xticks(
        [(c + 0.5) * (side + 1) for c in range(snaps)],
        [str((c + 1) * every) for c in range(snaps)],
        fontsize=7,
    )
    ax.set_yticks([])
    ax.set_xlabel("Gibbs sweep")
    ax.set_title(f"{label}: block Gibbs chains from the base-rate model (one chain per row)", fontsize=9)
    ctx.save_figure(fig, name, f"Samples of {label} along {num_chains} Gibbs chains")


def plot_log_likelihoods(ctx: RunContext, scores: dict[str, dict[str, float]], name: str, title: str) -> None:
    """Test log-likelihood (AIS) per model with its uncertainty from log Z (3 sigma) and from the test set (2 SEM)."""
    labels = list(scores)
    values = [scores[k]["test_log_likelihood"] for k in labels]
    errors = [
        math.sqrt((3 * scores[k]["log_z_std_err"]) ** 2 + (2 * scores[k]["test_log_likelihood_sem"]) ** 2)
        for k in labels
    ]
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(labels), 3))
    ax.errorbar(range(len(labels)), values, yerr=errors, fmt="o", capsize=5, color="tab:blue")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel("mean test log p(v) (nats)")
    for i, v in enumerate(values):
        ax.annotate(f"{v:.1f}", (i, v), textcoords="offset points", xytext=(8, 0), va="center", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    methods = sorted({scores[k]["log_z_method"] for k in labels})
    ax.set_title(f"{title} [log Z: {', '.join(methods)}]", fontsize=9)
    ctx.save_figure(
        fig,
        name,
        "Mean test log-likelihood with error bars (3 sigma of log Z from AIS, 2 SEM over test images)",
    )


def plot_monitors(ctx: RunContext, histories: dict[str, Any], name: str) -> None:
    """Training monitors per epoch: reconstruction error and stochastic pseudo-log-likelihood (not likelihoods)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for label, history in histories.items():
        recs = history.records
        epochs = [r["epoch"] for r in recs]
        axes[0].plot(epochs, [r["monitor_reconstruction_error"] for r in recs], label=label)
        axes[1].plot(epochs, [r["monitor_pseudo_log_likelihood"] for r in recs], label=label)
    axes[0].set_title("MONITOR: reconstruction error", fontsize=9)
    axes[1].set_title("MONITOR: pseudo-log-likelihood (stochastic)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    ctx.save_figure(
        fig,
        name,
        "Training monitors (not log-likelihoods): one-step reconstruction error and pseudo-log-likelihood on training data",
    )


def report_rbm_scores(ctx: RunContext, scores: dict[str, dict[str, Any]]) -> None:
    """Declare each RBM's test log-likelihood (headline) and its train log-likelihood and training time.

    The standard error combines the test-set SEM with the standard error of log Z (independent sources). With log Z
    from AIS the value is labelled an upper bound: AIS underestimates log Z in expectation (Jensen), so the
    log-likelihood is overestimated in expectation; with exact enumeration it is exact.
    """
    for label, m in scores.items():
        se = math.hypot(m["test_log_likelihood_sem"], m["log_z_std_err"])
        bound = "upper" if m["log_z_method"] == "ais" else None
        ctx.report_metric(
            "test log-likelihood",
            m["test_log_likelihood"],
            "nats/image",
            "higher",
            method=label,
            se=se,
            bound=bound,
        )
        ctx.report_metric(
            "train log-likelihood",
            m["train_log_likelihood"],
            "nats/image",
            "higher",
            method=label,
            bound=bound,
            headline=False,
        )
        ctx.report_metric("train time", m["train_seconds"], "s", "lower", method=label, headline=False)
