"""``gp-classification``: stochastic variational deep kernel learning on the embedded 8x8 digits.

A ReLU MLP maps each image to F features; ten independent GPs on those features, with a softmax
likelihood, give the class probabilities (Wilson et al. 2016b, arXiv:1611.00336, with free
inducing points instead of KISS-GP grids). A sparse variational GP on the raw pixels is the
baseline. Reported on the test split: accuracy, NLL, expected calibration error, and the AUROC of
separating the test images from a shifted copy (rotated by 90 degrees, with Gaussian pixel noise)
by predictive entropy and by mutual information.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..data import load_digits  # noqa: E402
from ..diagnostics import accuracy, nll  # noqa: E402
from ..errors import InputError  # noqa: E402
from ..inference import Trainer  # noqa: E402
from ..inference.predictive import ClassificationPrediction, predict  # noqa: E402
from ..models.gp import DeepKernelGP, SparseVariationalGP  # noqa: E402
from ..validation import check_tensor  # noqa: E402
from .registry import RunContext, experiment  # noqa: E402

MODELS = ("dkl", "svgp")


# ----------------------------------------------------------------------------------------- metrics
# TODO(lead): use bayesdl.diagnostics.metrics (ECE, AUROC) once the BNN branch adds them.
def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, num_bins: int = 15) -> float:
    """ECE = sum_b (n_b / N) |accuracy_b - confidence_b| over equal-width confidence bins
    (Guo, Pleiss, Sun & Weinberger 2017, arXiv:1706.04599).

    Example:
        >>> round(expected_calibration_error(torch.tensor([[0.8, 0.2], [0.8, 0.2]]), torch.tensor([0, 1])), 4)
        0.3
    """
    check_tensor(probs, "probs", ndim=2)
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).float()
    edges = torch.linspace(0, 1, num_bins + 1, device=probs.device)
    bins = torch.bucketize(confidence, edges[1:-1], right=True)
    ece = torch.zeros((), device=probs.device)
    for b in range(num_bins):
        mask = bins == b
        if mask.any():
            ece = ece + mask.float().mean() * (correct[mask].mean() - confidence[mask].mean()).abs()
    return float(ece)


def auroc(scores_in: torch.Tensor, scores_out: torch.Tensor) -> float:
    """Area under the ROC curve for telling shifted (positive) from in-distribution inputs by a score.

    Example:
        >>> auroc(torch.tensor([0.1, 0.2]), torch.tensor([0.3, 0.4]))
        1.0
    """
    from sklearn.metrics import roc_auc_score

    labels = np.concatenate([np.zeros(len(scores_in)), np.ones(len(scores_out))])
    scores = torch.cat([scores_in, scores_out]).double().cpu().numpy()
    return float(roc_auc_score(labels, scores))


def reliability_curve(probs: torch.Tensor, labels: torch.Tensor, num_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per confidence bin: mean confidence, accuracy and count (for the reliability diagram)."""
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).float()
    bins = torch.bucketize(confidence, torch.linspace(0, 1, num_bins + 1)[1:-1], right=True)
    conf, acc, count = np.zeros(num_bins), np.zeros(num_bins), np.zeros(num_bins)
    for b in range(num_bins):
        mask = bins == b
        count[b] = int(mask.sum())
        if count[b]:
            conf[b], acc[b] = float(confidence[mask].mean()), float(correct[mask].mean())
    return conf, acc, count


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
    epochs = 2 if ctx.smoke else 40 if ctx.quick else 150
    num_inducing = 10 if ctx.smoke else 64
    torch.manual_seed(ctx.seed)
    if kind == "dkl":
        hidden = [32] if ctx.smoke else [128, 64]
        model: Any = DeepKernelGP(num_features=10, num_inducing=num_inducing, likelihood="softmax", num_classes=10,
                                  num_inputs=64, hidden=hidden)
        lr = 0.01
    elif kind == "svgp":
        model = SparseVariationalGP(64, num_inducing=num_inducing, likelihood="softmax", num_classes=10)
        lr = 0.03
    else:
        raise InputError(f"unknown model {kind!r}; expected one of {list(MODELS)}")
    model.initialize_inducing_points(x, seed=ctx.seed)
    trainer = Trainer(model, lr=lr, epochs=epochs, batch_size=100, device=ctx.device, progress=ctx.progress, seed=ctx.seed)
    history = trainer.fit((x.to(ctx.device), y.to(ctx.device)))
    return model, history.losses


def evaluate(pred: ClassificationPrediction, pred_shift: ClassificationPrediction, labels: torch.Tensor) -> dict[str, float]:
    """Accuracy, NLL, ECE on the test set; OOD AUROC by entropy and by mutual information."""
    probs = pred.probs.cpu()
    return {
        "accuracy": accuracy(probs, labels),
        "nll": nll(probs, labels),
        "ece": expected_calibration_error(probs, labels),
        "ood_auroc_entropy": auroc(pred.entropy.cpu(), pred_shift.entropy.cpu()),
        "ood_auroc_mutual_information": auroc(pred.mutual_information.cpu(), pred_shift.mutual_information.cpu()),
        "mean_entropy_test": float(pred.entropy.mean()),
        "mean_entropy_shifted": float(pred_shift.entropy.mean()),
    }


@experiment("gp-classification", "Stochastic variational deep kernel learning (GPyTorch) on 8x8 digits: accuracy, NLL, ECE, OOD AUROC")
def run(ctx: RunContext) -> dict[str, Any]:
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    if ctx.smoke:
        x_train, y_train = x_train[:200], y_train[:200]
    x_shift = shifted_digits(x_test, seed=ctx.seed + 1)
    samples = 16 if ctx.smoke else 64 if ctx.quick else 256
    metrics: dict[str, Any] = {}
    preds: dict[str, tuple[ClassificationPrediction, ClassificationPrediction]] = {}
    for kind in MODELS:
        model, losses = build_and_fit(kind, x_train, y_train, ctx)
        torch.manual_seed(ctx.seed)
        pred = predict(model, x_test.to(ctx.device), num_samples=samples)
        pred_shift = predict(model, x_shift.to(ctx.device), num_samples=samples)
        preds[kind] = (pred, pred_shift)
        metrics[kind] = {**evaluate(pred, pred_shift, y_test), "final_negative_elbo_per_example": losses[-1]}

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for i, (kind, (pred, pred_shift)) in enumerate(preds.items()):
        conf, acc, count = reliability_curve(pred.probs.cpu(), y_test)
        used = count > 0
        axes[0].plot(conf[used], acc[used], "o-", color=f"C{i}", label=kind)
        bins = np.linspace(0, float(np.log(10)), 30)
        axes[1].hist(pred.entropy.cpu().numpy(), bins=bins, color=f"C{i}", alpha=0.45, label=f"{kind}: test", density=True)
        axes[1].hist(pred_shift.entropy.cpu().numpy(), bins=bins, color=f"C{i}", histtype="step", lw=1.5, label=f"{kind}: shifted", density=True)
    axes[0].plot([0, 1], [0, 1], "k--", lw=0.8)
    axes[0].set_xlabel("confidence")
    axes[0].set_ylabel("accuracy")
    axes[0].set_title("reliability (test)")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("predictive entropy (nats)")
    axes[1].set_title("test vs rotated+noisy digits")
    axes[1].legend(fontsize=7)
    ctx.save_figure(fig, "calibration_and_ood", "Reliability diagram on the test digits, and predictive entropy on test vs shifted digits")

    fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
    for j in range(8):
        axes[0, j].imshow(x_test[j].reshape(8, 8), cmap="gray_r")
        axes[1, j].imshow(x_shift[j].reshape(8, 8), cmap="gray_r")
        axes[0, j].axis("off")
        axes[1, j].axis("off")
    fig.suptitle("test digits (top) and their shifted versions (bottom)")
    ctx.save_figure(fig, "shifted_digits", "The out-of-distribution set: test digits rotated by 90 degrees with pixel noise (sd 0.2)")

    ctx.note("Training losses are negative ELBOs per example (upper bounds on the negative log marginal likelihood). "
             "Predictions average the softmax over draws of the latent functions from q(f). The DKL feature "
             "extractor is a plain ReLU MLP; GPs use 64 free inducing points in feature space, not KISS-GP grids.")
    metrics["settings"] = {"predictive_samples": samples, "num_train": len(y_train), "num_test": len(y_test)}
    return metrics
