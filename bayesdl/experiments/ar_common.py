"""Shared steps of the autoregressive-model experiments (``ar-digits``, ``ar-fashion``).

Each model is trained with the shared :class:`~bayesdl.inference.Trainer` (early-stopping on a
held-out part of the training set), scored by its exact test log-likelihood, and drawn from; the
figures show sample grids, completions of half-observed test images and the learning curves.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..inference import Trainer, bits_per_dim
from ..models.autoregressive import MADE, NADE, PixelCNN
from .image_grid import tile
from .registry import RunContext
from .style import IMAGE_CMAP


@dataclass
class ModelSpec:
    """One model of an experiment and how to train it; ``image`` models take [B, 1, H, W], others [B, D]."""

    name: str
    model: nn.Module
    image: bool
    epochs: int
    lr: float
    batch_size: int = 100


@dataclass(frozen=True)
class NadeSettings:
    """NADE (Larochelle & Murray 2011) and its training.

    Attributes:
        hidden: the hidden units H.
        epochs: training epochs (the epoch with the best validation NLL is kept).
        lr: Adam's learning rate.
        batch_size: the minibatch size.
    """

    hidden: int = 100
    epochs: int = 15
    lr: float = 3e-3
    batch_size: int = 50


@dataclass(frozen=True)
class MadeSettings:
    """MADE (Germain et al. 2015) and its training; one mask means the natural pixel order.

    Attributes:
        hidden: the hidden layer widths.
        num_masks: connectivity masks cycled through in training and averaged at test time (1: natural order).
        epochs: training epochs.
        lr: Adam's learning rate.
        batch_size: the minibatch size.
    """

    hidden: tuple[int, ...] = (256,)
    num_masks: int = 1
    epochs: int = 15
    lr: float = 3e-3
    batch_size: int = 50


@dataclass(frozen=True)
class PixelCNNSettings:
    """The gated PixelCNN (van den Oord et al. 2016) and its training.

    Attributes:
        num_layers: gated layers.
        hidden_channels: channels per layer.
        kernel_size: the (odd) kernel size.
        epochs: training epochs.
        lr: Adam's learning rate.
        batch_size: the minibatch size.
    """

    num_layers: int = 4
    hidden_channels: int = 48
    kernel_size: int = 5
    epochs: int = 24
    lr: float = 3e-3
    batch_size: int = 50


@dataclass(frozen=True)
class ARSettings:
    """Settings shared by ``ar-digits`` and ``ar-fashion`` (``--set made.epochs=30 --set pixelcnn.hidden_channels=64``).

    Attributes:
        num_train: training images (None: all that the split leaves).
        num_val: validation images (early stopping), carved out of the training file.
        num_test: test images scored (None: all).
        num_samples: images drawn from each model for the sample figure.
        nade: NADE and its training (``nade.epochs=0`` leaves NADE out).
        made: single-mask, natural-order MADE.
        made_masks: a MADE with several masks (``made_masks.epochs=0`` leaves it out).
        pixelcnn: the gated PixelCNN.
    """

    num_train: int | None = None
    num_val: int = 200
    num_test: int | None = None
    num_samples: int = 36
    nade: NadeSettings = field(default_factory=NadeSettings)
    made: MadeSettings = field(default_factory=MadeSettings)
    made_masks: MadeSettings = field(default_factory=lambda: MadeSettings(num_masks=8, epochs=0))
    pixelcnn: PixelCNNSettings = field(default_factory=PixelCNNSettings)


def model_specs(cfg: ARSettings, side: tuple[int, int], seed: int) -> list[ModelSpec]:
    """The models of ``cfg`` (those with at least one epoch), built under ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    dims = side[0] * side[1]
    specs = []
    if cfg.nade.epochs > 0:
        specs.append(
            ModelSpec(
                "NADE", NADE(dims, cfg.nade.hidden), False, cfg.nade.epochs, cfg.nade.lr, cfg.nade.batch_size
            )
        )
    for made in (cfg.made, cfg.made_masks):
        if made.epochs > 0:
            name = "MADE" if made.num_masks == 1 else f"MADE x{made.num_masks} masks"
            net = MADE(
                dims,
                list(made.hidden),
                num_masks=made.num_masks,
                natural_ordering=made.num_masks == 1,
                seed=seed,
            )
            specs.append(ModelSpec(name, net, False, made.epochs, made.lr, made.batch_size))
    p = cfg.pixelcnn
    if p.epochs > 0:
        net = PixelCNN(
            1, side, num_layers=p.num_layers, hidden_channels=p.hidden_channels, kernel_size=p.kernel_size
        )
        specs.append(ModelSpec("PixelCNN", net, True, p.epochs, p.lr, p.batch_size))
    return specs


def shaped(x: torch.Tensor, spec: ModelSpec, side: tuple[int, int]) -> torch.Tensor:
    """The data in the layout the model takes: images [B, 1, H, W] or flat [B, D]."""
    return x.reshape(len(x), 1, *side) if spec.image else x.reshape(len(x), -1)


@torch.no_grad()
def log_probs(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The exact log p(x) in nats of each example of ``x`` [N], in evaluation mode, as float64 on the CPU."""
    model.eval()
    return torch.cat(
        [
            model.log_prob(x[start : start + batch_size]).double().cpu()
            for start in range(0, len(x), batch_size)
        ]
    )


def mean_log_prob(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> float:
    """The average exact log p(x) in nats per example over ``x``, in evaluation mode."""
    return float(log_probs(model, x, batch_size).mean())


def fit_and_score(
    spec: ModelSpec,
    train: torch.Tensor,
    val: torch.Tensor,
    test: torch.Tensor,
    side: tuple[int, int],
    ctx: RunContext,
) -> tuple[dict[str, float], list[float]]:
    """Train one model (keeping the epoch with the best validation NLL) and return its metrics and validation curve."""
    device = ctx.device
    model = spec.model.to(device)
    tr, va, te = (shaped(t, spec, side).to(device) for t in (train, val, test))
    trainer = Trainer(
        model,
        lr=spec.lr,
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        device=device,
        progress=ctx.progress_label(f"training {spec.name}"),
        seed=ctx.seed,
        clip_grad_norm=100.0,
    )
    start = time.perf_counter()
    history = trainer.fit(tr, val_data=va)
    seconds = time.perf_counter() - start
    test_lp = log_probs(model, te)
    test_nll = -float(test_lp.mean())
    metrics = {
        "test_nll": test_nll,
        "test_nll_se": float(test_lp.std() / len(test_lp) ** 0.5),
        "test_bits_per_dim": float(bits_per_dim(torch.tensor([-test_nll]), side[0] * side[1])[0]),
        "val_nll": -mean_log_prob(model, va),
        "train_nll": -mean_log_prob(model, tr[:2000]),
        "epochs": spec.epochs,
        "train_seconds": round(seconds, 2),
        "seconds_per_epoch": round(seconds / spec.epochs, 3),
        "num_parameters": sum(p.numel() for p in model.parameters()),
    }
    return metrics, history["val_loss"]


def sample_figure(
    ctx: RunContext, specs: list[ModelSpec], side: tuple[int, int], num: int, name: str, title: str
) -> None:
    """One panel of ``num`` samples per model, plus a note of the sampling time."""
    fig, axes = plt.subplots(1, len(specs), figsize=(3.2 * len(specs), 3.4))
    for ax, spec in zip(np.atleast_1d(axes), specs):
        start = time.perf_counter()
        label = f"sampling {num} images from {spec.name}"
        if isinstance(spec.model, PixelCNN):  # pixel by pixel for minutes: a counted bar
            x = spec.model.sample(num, seed=ctx.seed, progress=ctx.progress_label(label))
        else:
            with ctx.phase(label):
                x = spec.model.sample(num, seed=ctx.seed)
        seconds = time.perf_counter() - start
        ax.imshow(tile(x.reshape(num, *side), int(math.sqrt(num))).numpy(), cmap=IMAGE_CMAP, vmin=0, vmax=1)
        ax.set_title(f"{spec.name}\n({seconds:.1f} s for {num})", fontsize=9)
        ax.axis("off")
    fig.suptitle(title)
    ctx.save_figure(fig, name, f"{num} ancestral samples from each model (binary pixels; black = 1)")


def completion_figure(
    ctx: RunContext, specs: list[ModelSpec], test: torch.Tensor, side: tuple[int, int], name: str
) -> None:
    """Complete the bottom half of a few test images from their observed top half, with every model."""
    count = 6
    x = test[:count]
    h, w = side
    observed = torch.zeros(h, w, dtype=torch.bool)
    observed[: h // 2] = True
    rows = [("observed top half", torch.where(observed, x.reshape(count, h, w), torch.full((), 0.5)))]
    for spec in specs:
        partial = shaped(x, spec, side).to(ctx.device)
        mask = observed.reshape(1, 1, h, w) if spec.image else observed.reshape(1, -1)
        label = f"completing test images with {spec.name}"
        if isinstance(spec.model, PixelCNN):
            done = spec.model.complete(
                partial, mask.to(ctx.device), seed=ctx.seed, progress=ctx.progress_label(label)
            )
        else:
            with ctx.phase(label):
                done = spec.model.complete(partial, mask.to(ctx.device), seed=ctx.seed)
        rows.append((spec.name, done.reshape(count, h, w)))
    rows.append(("original", x.reshape(count, h, w)))
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.1 * count, 1.25 * len(rows)))
    for ax, (label, images) in zip(axes, rows):
        ax.imshow(tile(images, count).numpy(), cmap=IMAGE_CMAP, vmin=0, vmax=1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("completion of the bottom half given the top half (raster order)", fontsize=9)
    ctx.save_figure(
        fig,
        name,
        "Bottom halves drawn from p(x_bottom | x_top): the top half is a prefix in raster order, so "
        "NADE, single-mask natural-order MADE and PixelCNN draw exactly from the conditional",
    )


def curves_figure(ctx: RunContext, curves: dict[str, list[float]], name: str) -> None:
    """Validation NLL per epoch for every model."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, marker=".", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation NLL (nats per image)")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, name, "Exact validation negative log-likelihood by epoch (the best epoch is kept)")


def run_models(
    ctx: RunContext,
    specs: list[ModelSpec],
    train: torch.Tensor,
    val: torch.Tensor,
    test: torch.Tensor,
    side: tuple[int, int],
    title: str,
) -> dict[str, Any]:
    """Train and score every model, write the three figures, and return the metrics with the ranking."""
    results: dict[str, Any] = {}
    curves: dict[str, list[float]] = {}
    for spec in specs:
        results[spec.name], curves[spec.name] = fit_and_score(spec, train, val, test, side, ctx)
    sample_figure(ctx, specs, side, ctx.config.num_samples, "samples", title)
    completion_figure(ctx, specs, test, side, "completions")
    curves_figure(ctx, curves, "learning_curves")
    ranking = sorted(results, key=lambda k: results[k]["test_nll"])
    for name, m in results.items():
        ctx.report_metric("test NLL", m["test_nll"], "nats/image", "lower", method=name, se=m["test_nll_se"])
        ctx.report_metric(
            "test bits/dim", m["test_bits_per_dim"], "bits/dim", "lower", method=name, headline=False
        )
        ctx.report_metric("train time", m["train_seconds"], "s", "lower", method=name, headline=False)
    ctx.note(
        "All numbers are exact negative log-likelihoods in nats per image (no bounds): each model's "
        "log p(x) is a product of normalised conditionals. Ranking by test NLL (best first): "
        + ", ".join(ranking)
        + "."
    )
    return {
        "models": results,
        "ranking": ranking,
        "num_train": len(train),
        "num_val": len(val),
        "num_test": len(test),
    }
