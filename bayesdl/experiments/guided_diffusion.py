"""``guided-diffusion``: a class-conditional DDPM on the 8x8 digits and a classifier-free guidance sweep.

One :class:`~bayesdl.models.diffusion.ConditionalDDPM` (the ``diffusion-digits`` MLP with ``prediction="grid"``
on the 17 grey levels, plus a label embedding; labels dropped to the null token with probability
``p_uncond``) is sampled at several guidance scales w, with the labels of the test digits (so the class mix
of every sample set is that of the test set). For each w the experiment reports:

* **class accuracy**: the fraction of samples that a classifier trained on real digits (bayesdl's
  ``PlainNet`` MLP, 64-256-256-10) assigns to the label they were drawn for, with the binomial standard error
  sqrt(p (1 - p) / (n + 2)) at the smoothed p = (k + 1) / (n + 2) (not 0 when every sample is right);
* **feature MMD^2**: the unbiased squared kernel MMD (Gaussian kernel, bandwidth by the median heuristic on
  the real test features, fixed across w) between samples and test digits in the classifier's penultimate
  (256-unit) feature space, with its first-order standard error. This stands in for FID, which needs
  Inception weights that cannot be fetched here; it is like the kernel inception distance of Binkowski et
  al. (2018), but with a digits classifier's features, so its values are comparable only within this run;
* **diversity**: the mean pairwise feature distance between samples of the same class, divided by that of
  the real test digits of the class, averaged over the 10 classes (SE over classes); 1 means as spread as
  the data, below 1 means guidance has collapsed the class towards its mode.

Reference rows: the classifier's accuracy on the real test digits, and the MMD^2 and diversity of real
training digits (same count and class mix) against the test digits, the floor that samples can reach.
Sampling: ancestral over all T steps in smoke and quick runs; the full run (T = 1000) samples by DDIM with
eta = 1 on 100 steps, a stochastic sampler on a subsequence of the steps, to stay within about 10 CPU minutes
(ancestral guided sampling costs about 250 ms per step for 600 digits on one thread).
The expected trade-off (Ho & Salimans 2022, fig. 4): accuracy rises with w, diversity falls, and the MMD
first falls and then rises again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import load_digits, load_digits_levels
from ..data.digits import DIGITS_LEVELS
from ..diagnostics.sample_distance import kernel_mmd, median_bandwidth
from ..inference import Trainer, bits_per_dim
from ..models.bnn import PlainNet
from ..models.diffusion import ConditionalDDPM
from ..models.nets import MLP
from ..nn import DenoisingMLP
from .diffusion_digits import NUM_DIMS, digits_on_grid
from .diffusion_plots import guidance_grid_figure
from .registry import RunContext, experiment
from .settings import RunSize

NUM_CLASSES = 10


@dataclass(frozen=True)
class GuidedDiffusionSettings:
    """Settings of ``guided-diffusion`` (``--set guidance=0,1,2 --set epochs=50`` and so on).

    Attributes:
        num_steps: T of the diffusion.
        epochs: training epochs of the conditional DDPM.
        hidden: the width of its denoising MLP.
        p_uncond: the probability of the null label in training.
        guidance: the guidance scales w of the sweep.
        repeats: samples per test digit at each w (the sample set has repeats x 297 images).
        classifier_epochs: training epochs of the judging classifier.
        classifier_hidden: its hidden widths.
        resample: RePaint's U for the inpainting rows (compared with replacement, U = 1); jumps of max(1, T // 25) steps.
        sample_steps: 0 for ancestral sampling over all T steps; S > 0 for DDIM on S steps with eta = 1 (stochastic,
            the ancestral sampler on a subsequence of the steps), which the full run uses to fit its CPU budget.
        limit: use only this many training and test digits (smoke runs); 0 for all.
    """

    num_steps: int = 1000
    epochs: int = 100
    hidden: int = 256
    p_uncond: float = 0.1
    guidance: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)
    repeats: int = 2
    classifier_epochs: int = 60
    classifier_hidden: tuple[int, ...] = field(default=(256, 256))
    sample_steps: int = 100
    resample: int = 5
    limit: int = 0

    @classmethod
    def preset(cls, size: RunSize) -> GuidedDiffusionSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(
                num_steps=10,
                epochs=1,
                hidden=32,
                guidance=(0.0, 2.0),
                repeats=1,
                classifier_epochs=2,
                classifier_hidden=(32,),
                sample_steps=0,
                resample=2,
                limit=256,
            )
        if size == "quick":
            return cls(
                num_steps=100,
                epochs=30,
                hidden=128,
                guidance=(0.0, 1.0, 3.0),
                repeats=1,
                classifier_epochs=30,
                sample_steps=0,
            )
        return cls()


def _features(classifier: PlainNet, images: torch.Tensor) -> torch.Tensor:
    """The classifier's penultimate activations of images on the grid [-1, 1], [N, width]."""
    with torch.no_grad():
        return classifier.net.layers[:-1](((images + 1) / 2).clamp(0, 1)).cpu()


def _diversity(
    features: torch.Tensor, labels: torch.Tensor, reference: torch.Tensor, ref_labels: torch.Tensor
) -> tuple[float, float]:
    """Mean within-class pairwise distance of ``features`` over that of ``reference``, averaged over classes, and its SE."""
    ratios = []
    for c in range(NUM_CLASSES):
        a, b = features[labels == c], reference[ref_labels == c]
        if len(a) >= 2 and len(b) >= 2:
            ratios.append(float(torch.pdist(a.double()).mean() / torch.pdist(b.double()).mean()))
    r = torch.tensor(ratios, dtype=torch.float64)
    return float(r.mean()), float(r.std() / math.sqrt(len(r))) if len(r) > 1 else float("nan")


def _tradeoff_figure(rows: list[dict[str, float]], reference: dict[str, float]):
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    ws = [r["w"] for r in rows]
    axes[0].errorbar(
        ws, [r["accuracy"] for r in rows], yerr=[r["accuracy_se"] for r in rows], marker="o", label="accuracy"
    )
    axes[0].errorbar(
        ws,
        [r["diversity"] for r in rows],
        yerr=[r["diversity_se"] for r in rows],
        marker="s",
        label="diversity",
    )
    axes[0].axhline(reference["accuracy"], ls=":", c="k", lw=0.8, label="real test digits")
    axes[0].set_xlabel("guidance scale w")
    axes[0].legend(fontsize=7)
    axes[0].set_title("class accuracy and within-class diversity", fontsize=9)
    axes[1].errorbar(
        [r["accuracy"] for r in rows],
        [r["mmd2"] for r in rows],
        yerr=[r["mmd2_se"] for r in rows],
        marker="o",
    )
    for r in rows:
        axes[1].annotate(
            f"w={r['w']:g}", (r["accuracy"], r["mmd2"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    axes[1].axhline(reference["mmd2"], ls=":", c="k", lw=0.8, label="real train vs test")
    axes[1].set_xlabel("class accuracy of samples")
    axes[1].set_ylabel("feature MMD$^2$ to test digits")
    axes[1].legend(fontsize=7)
    axes[1].set_title("quality/diversity against accuracy", fontsize=9)
    fig.tight_layout()
    return fig


@experiment(
    "guided-diffusion",
    "Class-conditional DDPM on digits: classifier-free guidance sweep (accuracy, feature MMD, diversity)",
    config=GuidedDiffusionSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: GuidedDiffusionSettings = ctx.config
    device = ctx.device
    x_train, y_train = digits_on_grid("train"), load_digits_levels("train")[1]
    x_test, y_test = digits_on_grid("test"), load_digits_levels("test")[1]
    if cfg.limit:
        x_train, y_train, x_test, y_test = (
            x_train[: cfg.limit],
            y_train[: cfg.limit],
            x_test[: cfg.limit // 4],
            y_test[: cfg.limit // 4],
        )

    # the judge: a classifier trained on the real digits (in [0, 1])
    torch.manual_seed(ctx.seed)
    classifier = PlainNet(MLP(NUM_DIMS, list(cfg.classifier_hidden), NUM_CLASSES))
    real_x, real_y = load_digits("train")
    if cfg.limit:
        real_x, real_y = real_x[: cfg.limit], real_y[: cfg.limit]
    Trainer(
        classifier,
        lr=1e-3,
        epochs=cfg.classifier_epochs,
        batch_size=100,
        device=device,
        progress=ctx.progress,
        seed=ctx.seed,
    ).fit((real_x, real_y))
    classifier.eval()
    with torch.no_grad():
        test_acc = float((classifier((x_test.to(device) + 1) / 2).argmax(1).cpu() == y_test).float().mean())
    test_features = _features(classifier, x_test.to(device))
    bandwidth = median_bandwidth(test_features)

    # the class-conditional DDPM
    torch.manual_seed(ctx.seed)
    net = DenoisingMLP(
        NUM_DIMS,
        hidden=cfg.hidden,
        num_blocks=3,
        out_features=NUM_DIMS * DIGITS_LEVELS,
        num_classes=NUM_CLASSES,
    )
    model = ConditionalDDPM(
        net,
        num_classes=NUM_CLASSES,
        p_uncond=cfg.p_uncond,
        data_shape=[NUM_DIMS],
        num_steps=cfg.num_steps,
        schedule="linear",
        prediction="grid",
        decoder="discretized",
        num_levels=DIGITS_LEVELS,
    )
    history = Trainer(
        model,
        lr=2e-3,
        epochs=cfg.epochs,
        batch_size=128,
        scheduler="cosine",
        device=device,
        progress=ctx.progress,
        seed=ctx.seed,
    ).fit((x_train, y_train))
    model.eval()
    with ctx.phase(f"conditional and unconditional bounds over all {cfg.num_steps} steps"):
        bpd_cond = bits_per_dim(
            -model.nll_bound(x_test.to(device), y=y_test.to(device), seed=ctx.seed).cpu(), NUM_DIMS
        )
        bpd_uncond = bits_per_dim(-model.nll_bound(x_test.to(device), seed=ctx.seed).cpu(), NUM_DIMS)

    # the reference: real training digits with the test set's class mix
    labels = y_test.repeat(cfg.repeats)
    n = len(labels)
    pick = torch.cat(
        [torch.nonzero(y_train == c).flatten()[: int((labels == c).sum())] for c in range(NUM_CLASSES)]
    )
    real_features, real_labels = _features(classifier, x_train[pick].to(device)), y_train[pick]
    real_mmd = kernel_mmd(real_features, test_features, bandwidth=bandwidth)
    real_div = _diversity(real_features, real_labels, test_features, y_test)
    reference = {
        "accuracy": test_acc,
        "mmd2": real_mmd.mmd2,
        "mmd2_se": real_mmd.se,
        "diversity": real_div[0],
    }

    def draw(count: int, y: torch.Tensor, w: float, seed: int) -> torch.Tensor:
        if cfg.sample_steps:
            return model.ddim_sample(
                count, num_steps=cfg.sample_steps, eta=1.0, y=y.to(device), guidance=w, seed=seed
            ).cpu()
        return model.sample(count, y=y.to(device), guidance=w, seed=seed).cpu()

    sampler = (
        f"DDIM, eta = 1, {cfg.sample_steps} of {cfg.num_steps} steps"
        if cfg.sample_steps
        else f"ancestral, {cfg.num_steps} steps"
    )
    rows, grid = [], []
    per_class = 2
    show = torch.arange(NUM_CLASSES).repeat(per_class)
    for w in cfg.guidance:
        with ctx.phase(f"sampling {n} digits at w = {w:g} ({sampler})"):
            samples = draw(n, labels, w, ctx.seed + 1)
            grid.append(draw(len(show), show, w, ctx.seed + 2))
        feats = _features(classifier, samples.to(device))
        with torch.no_grad():
            acc = float(
                (classifier(((samples + 1) / 2).clamp(0, 1).to(device)).argmax(1).cpu() == labels)
                .float()
                .mean()
            )
        mmd = kernel_mmd(feats, test_features, bandwidth=bandwidth)
        div, div_se = _diversity(feats, labels, test_features, y_test)
        smoothed = (acc * n + 1) / (
            n + 2
        )  # the binomial SE at (k + 1) / (n + 2): not 0 when all or none are right
        rows.append(
            {
                "w": float(w),
                "accuracy": acc,
                "accuracy_se": math.sqrt(smoothed * (1 - smoothed) / (n + 2)),
                "mmd2": mmd.mmd2,
                "mmd2_se": mmd.se,
                "diversity": div,
                "diversity_se": div_se,
            }
        )

    # inpainting: the bottom half of every test digit from its top half, by the unconditional model (null label)
    mask = (torch.arange(NUM_DIMS) < NUM_DIMS // 2).to(device)
    jump = max(1, cfg.num_steps // 25)
    inpainting = {}
    for u in sorted({1, cfg.resample}):
        with ctx.phase(f"inpainting {len(x_test)} test digits (U = {u}, jump {jump})"):
            filled = model.complete(x_test.to(device), mask, resample=u, jump=jump, seed=ctx.seed + 3).cpu()
        with torch.no_grad():
            right = float(
                (classifier(((filled + 1) / 2).clamp(0, 1).to(device)).argmax(1).cpu() == y_test)
                .float()
                .mean()
            )
        inpainting[u] = (right, math.sqrt(max(right * (1 - right), 1e-12) / len(y_test)), filled)
    with torch.no_grad():
        top_only = torch.where(mask.cpu(), x_test, torch.tensor(-1.0))
        top_acc = float(
            (classifier(((top_only + 1) / 2).to(device)).argmax(1).cpu() == y_test).float().mean()
        )

    for u, (right, se, _) in inpainting.items():
        ctx.report_metric(
            "inpainted class accuracy",
            100 * right,
            "%",
            "higher",
            se=100 * se,
            headline=False,
            method="replacement (U = 1)" if u == 1 else f"RePaint (U = {u}, jump {jump})",
            group="inpainting",
        )
    ctx.report_metric(
        "inpainted class accuracy",
        100 * top_acc,
        "%",
        "higher",
        method="top half only, bottom blank",
        headline=False,
        group="inpainting",
    )

    for r in rows:
        method = f"w = {r['w']:g}"
        ctx.report_metric(
            "sample class accuracy",
            100 * r["accuracy"],
            "%",
            "higher",
            method=method,
            se=100 * r["accuracy_se"],
        )
        ctx.report_metric("feature MMD^2 to test", r["mmd2"], "", "lower", method=method, se=r["mmd2_se"])
        ctx.report_metric(
            "within-class diversity",
            r["diversity"],
            "x real",
            "higher",
            method=method,
            se=r["diversity_se"],
            headline=False,
        )
    ctx.report_metric(
        "sample class accuracy", 100 * test_acc, "%", "higher", method="real test digits", headline=False
    )
    ctx.report_metric(
        "feature MMD^2 to test",
        real_mmd.mmd2,
        "",
        "lower",
        method="real train digits",
        se=real_mmd.se,
        headline=False,
    )
    ctx.report_metric(
        "within-class diversity",
        real_div[0],
        "x real",
        "higher",
        method="real train digits",
        se=real_div[1],
        headline=False,
    )
    ctx.report_metric(
        "conditional test bits/dim",
        float(bpd_cond.mean()),
        "bits/dim",
        "lower",
        se=float(bpd_cond.std() / math.sqrt(len(bpd_cond))),
        bound="upper",
        headline=False,
    )
    ctx.report_metric(
        "unconditional test bits/dim",
        float(bpd_uncond.mean()),
        "bits/dim",
        "lower",
        se=float(bpd_uncond.std() / math.sqrt(len(bpd_uncond))),
        bound="upper",
        headline=False,
    )

    ctx.save_figure(
        guidance_grid_figure(
            torch.cat(grid),
            [f"w = {w:g}" for w in cfg.guidance],
            NUM_CLASSES,
            "class-conditional DDPM samples (columns: class; rows: guidance scale w)",
        ),
        "samples_by_guidance",
        f"{per_class} samples per class at each guidance scale w (same noise seed for every w)",
    )
    ctx.save_figure(
        _tradeoff_figure(rows, reference),
        "guidance_tradeoff",
        "Class accuracy, within-class diversity and feature MMD^2 of the samples against the guidance scale",
    )
    first = torch.stack(
        [
            torch.nonzero(y_test == c).flatten()[0] if bool((y_test == c).any()) else torch.tensor(0)
            for c in range(NUM_CLASSES)
        ]
    )  # one test digit per class, for the columns
    shown = torch.cat([x_test[first], top_only[first]] + [v[2][first] for v in inpainting.values()])
    ctx.save_figure(
        guidance_grid_figure(
            shown,
            ["data", "given", *[f"U={u}" for u in inpainting]],
            10,
            "inpainting the bottom half (unconditional model)",
        ),
        "inpainting",
        "Test digits, their top half, and completions by replacement (U = 1) and RePaint",
    )
    ctx.note(
        f"Inpainting: the bottom half of each of the {len(x_test)} test digits is completed from the top half by the "
        f"unconditional model (null label), by replacement (U = 1) and by RePaint (U = {cfg.resample}, jumps of {jump} "
        "steps; Lugmayr et al. 2022); the score is the classifier's accuracy on the completed digits (binomial SE), "
        "against the same classifier on the top half with a blank bottom. The observed half is kept exactly."
    )
    ctx.note(
        f"Accuracy: the fraction of {n} samples (the test digits' labels, {cfg.repeats} per digit) that a PlainNet MLP "
        f"{[NUM_DIMS, *cfg.classifier_hidden, NUM_CLASSES]} trained on real digits (test accuracy {test_acc:.3f}) assigns to "
        "their label; SE is binomial, sqrt(p (1 - p) / (n + 2)) at p = (k + 1) / (n + 2) so that it is not 0 "
        f"at 100%. Sampler: {sampler}."
    )
    ctx.note(
        "Feature MMD^2 is NOT FID: FID needs Inception-v3 weights, which cannot be fetched offline. It is the unbiased "
        "squared MMD with a Gaussian kernel (bandwidth: median heuristic on the real test features, "
        f"{bandwidth:.3g}, fixed across w) in the classifier's penultimate-layer features; its SE is first-order and "
        "understates the error near 0. Real training digits with the same class mix give the floor."
    )
    ctx.note(
        "Diversity: mean pairwise feature distance within a class, over that of the real test digits of the class, "
        "averaged over the 10 classes (SE over classes)."
    )
    ctx.note(
        f"The conditional and unconditional bits/dim are variational bounds (all {cfg.num_steps} steps) of the same "
        "network with the true label and with the null label; guided samples (w > 0) come from no normalised model, "
        "so no likelihood is reported for them."
    )
    ctx.note(
        "Fashion-MNIST is not run: a class-conditional U-Net sweep there exceeds the CPU budget of this experiment."
    )
    return {
        "guidance": [r["w"] for r in rows],
        "accuracy": [r["accuracy"] for r in rows],
        "accuracy_se": [r["accuracy_se"] for r in rows],
        "feature_mmd2": [r["mmd2"] for r in rows],
        "feature_mmd2_se": [r["mmd2_se"] for r in rows],
        "diversity": [r["diversity"] for r in rows],
        "real_test_accuracy": test_acc,
        "real_train_feature_mmd2": real_mmd.mmd2,
        "conditional_bits_per_dim_bound": float(bpd_cond.mean()),
        "unconditional_bits_per_dim_bound": float(bpd_uncond.mean()),
        "final_train_loss": history.losses[-1],
        "num_samples_per_scale": n,
        "inpainting_resample": list(inpainting),
        "inpainting_accuracy": [v[0] for v in inpainting.values()],
        "top_half_only_accuracy": top_acc,
    }
