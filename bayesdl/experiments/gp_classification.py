"""``gp-classification``: stochastic variational deep kernel learning on the embedded 8x8 digits.

A ReLU MLP maps each image to F features; ten independent GPs on those features, with a softmax
likelihood, give the class probabilities (Wilson et al. 2016b, arXiv:1611.00336, with free
inducing points instead of KISS-GP grids). A sparse variational GP on the raw pixels is the
baseline, and the BNN methods of ``bnn-classification`` are trained alongside. Reported on the
test split: accuracy, NLL, expected calibration error, and the AUROC of separating the test images from a shifted copy (rotated by 90 degrees, with Gaussian pixel noise)
by predictive entropy and by mutual information.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..data import load_digits
from ..diagnostics.metrics import accuracy, expected_calibration_error, nll, ood_auroc
from ..diagnostics.uncertainty_plots import reliability_diagram
from ..errors import InputError
from ..inference import Trainer
from ..inference.predictive import ClassificationPrediction, predict
from ..models.gp import DeepKernelGP, SparseVariationalGP
from ..models.nets import MLP
from ..validation import check_tensor
from .bnn_methods import LABELS, METHODS, NetSettings, train_method
from .image_grid import image_grid
from .registry import RunContext, experiment
from .scoring import report_classification
from .settings import RunSize

MODELS = ("dkl", "svgp")


@dataclass(frozen=True)
class GpClassificationSettings:
    """Settings of ``gp-classification`` (``--set gp_epochs=300 --set num_inducing=128 --set bnn.hidden=400,400``).

    Attributes:
        gp_epochs: training epochs of the DKL and SVGP classifiers.
        num_inducing: inducing points of both GPs.
        dkl_hidden: the DKL feature extractor's widths (ReLU MLP to 10 features).
        dkl_lr: DKL's Adam learning rate.
        svgp_lr: SVGP's Adam learning rate.
        batch_size: the minibatch size of every model.
        bnn_epochs: training epochs of the BNN methods.
        bnn: the BNN methods' MLP (and MC dropout's rate).
        bnn_lr: the BNN methods' Adam learning rate.
        members: deep-ensemble members.
        predictive_samples: Monte Carlo samples of every predictive.
        num_train: training digits (None: all 1500).
    """

    gp_epochs: int = 150
    num_inducing: int = 64
    dkl_hidden: tuple[int, ...] = (128, 64)
    dkl_lr: float = 0.01
    svgp_lr: float = 0.03
    batch_size: int = 100
    bnn_epochs: int = 100
    bnn: NetSettings = field(default_factory=NetSettings)
    bnn_lr: float = 1e-3
    members: int = 5
    predictive_samples: int = 256
    num_train: int | None = None

    @classmethod
    def preset(cls, size: RunSize) -> GpClassificationSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(
                gp_epochs=2,
                num_inducing=10,
                dkl_hidden=(32,),
                bnn_epochs=2,
                bnn=NetSettings(hidden=(32,)),
                members=2,
                predictive_samples=16,
                num_train=200,
            )
        return cls(gp_epochs=40, bnn_epochs=25, predictive_samples=64) if size == "quick" else cls()


# ----------------------------------------------------------------------------------------- data
def shifted_digits(x: torch.Tensor, noise_std: float = 0.2, seed: int = 0) -> torch.Tensor:
    """Rotate 8x8 digit images [N, 64] by 90 degrees and add Gaussian pixel noise, kept in [0, 1].

    The shifted set of the out-of-distribution test: the images no longer look like upright digits.
    """
    check_tensor(x, "x", shape=[None, 64])
    generator = torch.Generator().manual_seed(seed)
    rotated = torch.rot90(x.reshape(-1, 8, 8), k=1, dims=(1, 2)).reshape(-1, 64)
    noisy = rotated + noise_std * torch.randn(rotated.shape, generator=generator).to(x.device)
    return noisy.clamp(0.0, 1.0)  # a deliberate part of the shift: images stay valid pixel intensities


# ----------------------------------------------------------------------------------------- models
def build_and_fit(kind: str, x: torch.Tensor, y: torch.Tensor, ctx: RunContext) -> tuple[Any, list[float]]:
    """Build one classifier and train it through the shared trainer on (x, y)."""
    cfg: GpClassificationSettings = ctx.config
    num_inducing = cfg.num_inducing
    torch.manual_seed(ctx.seed)
    if kind == "dkl":
        model: Any = DeepKernelGP(
            num_features=10,
            num_inducing=num_inducing,
            likelihood="softmax",
            num_classes=10,
            num_inputs=64,
            hidden_sizes=list(cfg.dkl_hidden),
        )
        lr = cfg.dkl_lr
    elif kind == "svgp":
        model = SparseVariationalGP(64, num_inducing=num_inducing, likelihood="softmax", num_classes=10)
        lr = cfg.svgp_lr
    else:
        raise InputError(f"unknown model {kind!r}; expected one of {list(MODELS)}")
    model.initialize_inducing_points(x, seed=ctx.seed)
    trainer = Trainer(
        model,
        lr=lr,
        epochs=cfg.gp_epochs,
        batch_size=cfg.batch_size,
        device=ctx.device,
        progress=ctx.progress_label(f"training {kind}"),
        seed=ctx.seed,
    )
    history = trainer.fit((x.to(ctx.device), y.to(ctx.device)))
    return model, history.losses


def fit_bnn(method: str, x: torch.Tensor, y: torch.Tensor, ctx: RunContext) -> torch.nn.Module:
    """Train one BNN method with the settings ``bnn-classification`` uses on digits (shared helper and MLP)."""
    cfg: GpClassificationSettings = ctx.config
    hidden = list(cfg.bnn.hidden)
    return train_method(
        method,
        lambda p: MLP(64, hidden, 10, dropout=p),
        "categorical",
        (x, y),
        cfg.bnn_epochs,
        cfg.batch_size,
        cfg.bnn_lr,
        ctx,
        dropout=cfg.bnn.dropout,
        num_members=cfg.members,
    )


def evaluate(
    pred: ClassificationPrediction, pred_shift: ClassificationPrediction, labels: torch.Tensor
) -> dict[str, float]:
    """Accuracy, NLL, ECE on the test set; OOD AUROC by entropy and by mutual information."""
    probs = pred.probs.cpu()
    return {
        "accuracy": accuracy(probs, labels),
        "nll": nll(probs, labels),
        "ece": expected_calibration_error(probs, labels),
        "ood_auroc_entropy": ood_auroc(pred.entropy.cpu(), pred_shift.entropy.cpu()),
        "ood_auroc_mutual_information": ood_auroc(
            pred.mutual_information.cpu(), pred_shift.mutual_information.cpu()
        ),
        "mean_entropy_test": float(pred.entropy.mean()),
        "mean_entropy_shifted": float(pred_shift.entropy.mean()),
    }


@experiment(
    "gp-classification",
    "Stochastic variational deep kernel learning (GPyTorch) next to the BNN methods on 8x8 digits: accuracy, NLL, ECE, OOD AUROC",
    config=GpClassificationSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: GpClassificationSettings = ctx.config
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    x_train, y_train = x_train[: cfg.num_train], y_train[: cfg.num_train]
    x_shift = shifted_digits(x_test, seed=ctx.seed + 1)
    samples = cfg.predictive_samples
    metrics: dict[str, Any] = {}
    preds: dict[str, tuple[ClassificationPrediction, ClassificationPrediction]] = {}
    for kind in MODELS + METHODS:
        if kind in MODELS:
            model, losses = build_and_fit(kind, x_train, y_train, ctx)
            extra = {"final_negative_elbo_per_example": losses[-1]}
        else:
            torch.manual_seed(ctx.seed)
            model, extra = fit_bnn(kind, x_train, y_train, ctx), {}
        torch.manual_seed(ctx.seed)
        pred = predict(model, x_test.to(ctx.device), num_samples=samples)
        pred_shift = predict(model, x_shift.to(ctx.device), num_samples=samples)
        preds[kind] = (pred, pred_shift)
        metrics[kind] = {**evaluate(pred, pred_shift, y_test), **extra}
        label = LABELS.get(kind, kind)
        report_classification(ctx, pred.probs.cpu(), y_test, label, ece=metrics[kind]["ece"])
        ctx.report_metric(
            "OOD AUROC (entropy)",
            metrics[kind]["ood_auroc_entropy"],
            "",
            "higher",
            method=label,
            headline=False,
        )
        if kind != "plain":
            ctx.report_metric(
                "OOD AUROC (mutual information)",
                metrics[kind]["ood_auroc_mutual_information"],
                "",
                "higher",
                method=label,
                headline=False,
            )

    fig, axes = plt.subplots(1, len(preds) + 1, figsize=(3.0 * (len(preds) + 1), 3.2))
    for i, (kind, (pred, pred_shift)) in enumerate(preds.items()):
        if kind not in (
            "dkl",
            "svgp",
            "ensemble",
        ):  # the entropy panel shows the GPs and the ensemble only, to stay legible
            reliability_diagram(pred.probs.cpu(), y_test, n_bins=10, ax=axes[i], title=LABELS.get(kind, kind))
            continue
        reliability_diagram(pred.probs.cpu(), y_test, n_bins=10, ax=axes[i], title=LABELS.get(kind, kind))
        bins = np.linspace(0, float(np.log(10)), 30)
        axes[-1].hist(
            pred.entropy.cpu().numpy(),
            bins=bins,
            color=f"C{i}",
            alpha=0.45,
            label=f"{kind}: test",
            density=True,
        )
        axes[-1].hist(
            pred_shift.entropy.cpu().numpy(),
            bins=bins,
            color=f"C{i}",
            histtype="step",
            lw=1.5,
            label=f"{kind}: shifted",
            density=True,
        )
    axes[-1].set_xlabel("predictive entropy (nats)")
    axes[-1].set_title("test vs rotated+noisy digits")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(
        fig,
        "calibration_and_ood",
        "Reliability diagram on the test digits, and predictive entropy on test vs shifted digits",
    )

    fig = image_grid(
        torch.cat([x_test[:8], x_shift[:8]]),
        rows=2,
        row_labels=("test", "shifted"),
        cell=0.8,
        title="test digits (top) and their shifted versions (bottom)",
    )
    ctx.save_figure(
        fig,
        "shifted_digits",
        "The out-of-distribution set: test digits rotated by 90 degrees with pixel noise (sd 0.2)",
    )

    ctx.note(
        "Training losses are negative ELBOs per example (upper bounds on the negative log marginal likelihood). "
        "Predictions average the softmax over draws of the latent functions from q(f). The DKL feature "
        "extractor is the shared ReLU MLP of bayesdl.models.nets; GPs use "
        f"{cfg.num_inducing} free inducing points in feature space, not KISS-GP grids."
    )
    ctx.note(
        "The BNN rows (plain net, MC dropout, deep ensemble, Bayes by Backprop) are trained with the bnn-classification "
        f"helper (MLP 64-{'-'.join(map(str, cfg.bnn.hidden))}-10, Adam {cfg.bnn_lr:g}), and scored on the same test and shifted sets "
        "(rotated by 90 degrees plus pixel noise; bnn-classification's own shifted set has no noise)."
    )
    metrics["settings"] = {"predictive_samples": samples, "num_train": len(y_train), "num_test": len(y_test)}
    return metrics
