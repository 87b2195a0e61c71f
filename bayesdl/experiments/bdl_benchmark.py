"""``bdl-benchmark``: every uncertainty method of bayesdl on the same tasks, the same base network and the same splits.

Classification (digits; Fashion-MNIST in full runs): accuracy, NLL, ECE, Brier, OOD AUROC / AUPR / FPR at 95% TPR
against a shifted set, the size and coverage of 90% conformal (APS) sets, and training plus prediction time; every
classifier is also scored after temperature scaling. Regression (the 'gap' toy set and scikit-learn's diabetes
data): RMSE, NLL, 95% interval coverage, split-conformal coverage and width, and time. Each figure is the mean over
seeds with its standard error across seeds (one seed: the standard error over test points where there is one).

A calibration split (20% of the training data) is held out of training: temperature scaling and the conformal
quantiles are fitted on it, and nothing else sees it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import load_diabetes, load_digits, load_fashion_mnist, toy_regression
from ..diagnostics.metrics import (
    accuracy,
    brier_score,
    expected_calibration_error,
    gaussian_nll,
    interval_coverage,
    nll,
    ood_auroc,
)
from ..diagnostics.selective import fpr_at_tpr, ood_aupr, risk_coverage
from ..diagnostics.uncertainty_plots import reliability_diagram
from ..errors import BayesdlError, DataNotFoundError, InputError
from ..inference.conformal import ConformalClassifier, SplitConformalRegressor, set_coverage, set_sizes
from ..inference.predictive import predict
from ..inference.recalibration import Recalibration
from ..models.nets import MLP
from .bdl_methods import LABELS, METHODS, Budget, build_method
from .registry import RunContext, experiment
from .settings import RunSize

#: every task, in report order; "fashion-mnist" runs only where the budget is set and the data are installed
TASKS = ("digits", "fashion-mnist", "gap", "diabetes")

CLASSIFICATION_METRICS = (  # (key, name, unit, better)
    ("accuracy", "accuracy", "%", "higher"),
    ("nll", "NLL", "nats", "lower"),
    ("ece", "ECE", "%", "lower"),
    ("brier", "Brier", "", "lower"),
    ("ood_auroc", "OOD AUROC", "", "higher"),
    ("ood_aupr", "OOD AUPR", "", "higher"),
    ("fpr95", "FPR@95%TPR", "", "lower"),
    ("set_size", "90% set size", "classes", "lower"),
    ("set_coverage", "90% set coverage", "%", "none"),
    ("seconds", "time", "s", "lower"),
)
REGRESSION_METRICS = (
    ("rmse", "RMSE", "", "lower"),
    ("nll", "NLL", "nats", "lower"),
    ("coverage", "95% coverage", "%", "none"),
    ("conformal_coverage", "90% conformal coverage", "%", "none"),
    ("conformal_width", "90% conformal width", "", "lower"),
    ("seconds", "time", "s", "lower"),
)


@dataclass(frozen=True)
class BdlBenchmarkSettings:
    """Settings of ``bdl-benchmark`` (``--set seeds=5 --set classification.epochs=50`` and so on).

    Attributes:
        seeds: repetitions with different seeds (the splits stay fixed).
        methods: the methods to run (a subset of the default).
        tasks: the tasks to run (a subset of the default), so that a long run can be split across processes.
        hidden: the hidden widths of the shared base MLP.
        classification: the budget on digits.
        fashion: the budget on Fashion-MNIST (full runs; None skips it).
        fashion_train: training images of Fashion-MNIST (a subset keeps the GPs and NUTS-free runs affordable).
        regression: the budget on the regression tasks.
        num_train: digits training images (None: all 1500).
        num_test: digits test images (None: all 297).
        gap_train: training points of the gap toy set.
        gap_test: test points of the gap toy set.
    """

    seeds: int = 3
    methods: tuple[str, ...] = METHODS
    tasks: tuple[str, ...] = TASKS
    hidden: tuple[int, ...] = (200, 200)
    classification: Budget = field(
        default_factory=lambda: Budget(epochs=60, predictive_samples=50, inducing=100, gp_epochs=60)
    )
    fashion: Budget | None = field(
        default_factory=lambda: Budget(
            epochs=10, predictive_samples=20, members=3, inducing=200, gp_epochs=10
        )
    )
    fashion_train: int = 20000
    regression: Budget = field(
        default_factory=lambda: Budget(
            epochs=500,
            batch_size=32,
            lr=3e-3,
            predictive_samples=100,
            inducing=50,
            gp_epochs=300,
            nuts_draws=300,
            swag_lr=3e-4,
            sghmc_lr=3e-4,
        )
    )
    num_train: int | None = None
    num_test: int | None = None
    gap_train: int = 200
    gap_test: int = 500

    @classmethod
    def preset(cls, size: RunSize) -> BdlBenchmarkSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            tiny = Budget(
                epochs=2,
                batch_size=50,
                members=2,
                predictive_samples=4,
                inducing=10,
                gp_epochs=1,
                nuts_draws=8,
                nuts_depth=3,
            )
            return cls(
                seeds=1,
                hidden=(16,),
                classification=tiny,
                fashion=None,
                regression=tiny,
                num_train=300,
                num_test=100,
                gap_train=60,
                gap_test=100,
            )
        if size == "quick":
            return cls(
                seeds=2,
                classification=Budget(epochs=20, predictive_samples=20, members=3, inducing=50, gp_epochs=20),
                fashion=None,
                regression=Budget(
                    epochs=200,
                    batch_size=32,
                    lr=3e-3,
                    members=3,
                    predictive_samples=50,
                    inducing=30,
                    gp_epochs=100,
                    nuts_draws=150,
                    swag_lr=3e-4,
                    sghmc_lr=3e-4,
                ),
            )
        return cls()


def _split_calibration(
    x: torch.Tensor, y: torch.Tensor, fraction: float = 0.2
) -> tuple[tuple[torch.Tensor, ...], ...]:
    """(train, calibration): a fixed seeded split of the training data."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(12345))
    cut = int(round(len(x) * (1 - fraction)))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def _rotated(images: torch.Tensor) -> torch.Tensor:
    side = int(round(images.shape[1] ** 0.5))
    return torch.rot90(images.reshape(-1, side, side), 1, dims=(1, 2)).reshape(len(images), -1)


def _classification_tasks(ctx: RunContext, cfg: BdlBenchmarkSettings) -> list[dict[str, Any]]:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    x, y, xt, yt = x[: cfg.num_train], y[: cfg.num_train], xt[: cfg.num_test], yt[: cfg.num_test]
    tasks = [
        {
            "name": "digits",
            "train": (x, y),
            "test": (xt, yt),
            "ood": ("rotated digits", _rotated(xt)),
            "budget": cfg.classification,
        }
    ]
    if cfg.fashion is not None:
        try:
            fx, fy = load_fashion_mnist("train")
            fxt, fyt = load_fashion_mnist("test")
        except DataNotFoundError:
            ctx.note("Fashion-MNIST is not installed: only digits were run.")
            return tasks
        fx, fy = fx[: cfg.fashion_train].reshape(-1, 784), fy[: cfg.fashion_train]
        fxt = fxt.reshape(-1, 784)
        tasks.append(
            {
                "name": "fashion-mnist",
                "train": (fx, fy),
                "test": (fxt, fyt),
                "ood": ("rotated Fashion-MNIST", _rotated(fxt[:2000])),
                "budget": cfg.fashion,
            }
        )
    return tasks


def _regression_tasks(ctx: RunContext, cfg: BdlBenchmarkSettings) -> list[dict[str, Any]]:
    x, y, _ = toy_regression("gap", cfg.gap_train, seed=0)
    xt, yt, _ = toy_regression("gap", cfg.gap_test, seed=1)
    dx, dy = load_diabetes("train")
    dxt, dyt = load_diabetes("test")
    return [
        {"name": "gap", "train": (x, y), "test": (xt, yt), "budget": cfg.regression},
        {"name": "diabetes", "train": (dx, dy), "test": (dxt, dyt), "budget": cfg.regression},
    ]


def _classification_scores(
    probs: torch.Tensor,
    y: torch.Tensor,
    probs_ood: torch.Tensor,
    probs_cal: torch.Tensor,
    y_cal: torch.Tensor,
    seed: int,
) -> dict[str, float]:
    entropy = lambda p: -(p * p.clamp_min(1e-12).log()).sum(-1)  # noqa: E731
    conformal = ConformalClassifier(alpha=0.1, method="aps")
    gen = torch.Generator().manual_seed(seed)
    conformal.calibrate(probs_cal, y_cal, generator=gen)
    sets = conformal.predict_sets(probs, generator=gen)
    score_in, score_out = entropy(probs), entropy(probs_ood)
    return {
        "accuracy": 100 * accuracy(probs, y),
        "nll": nll(probs, y),
        "ece": 100 * expected_calibration_error(probs, y, 15),
        "brier": brier_score(probs, y),
        "ood_auroc": ood_auroc(score_in, score_out),
        "ood_aupr": ood_aupr(score_in, score_out),
        "fpr95": fpr_at_tpr(score_in, score_out, 0.95),
        "set_size": float(set_sizes(sets).float().mean()),
        "set_coverage": 100 * set_coverage(sets, y),
    }


def _temperature_scaled(
    probs: torch.Tensor, probs_cal: torch.Tensor, y_cal: torch.Tensor
) -> tuple[Recalibration, Any]:
    """Temperature scaling on the log predictive probabilities, fitted on the calibration split."""
    scaler = Recalibration("temperature").fit(probs_cal.clamp_min(1e-12).log(), y_cal)
    return scaler, lambda p: scaler.predict_proba(p.clamp_min(1e-12).log())


def _run_classification(
    ctx: RunContext,
    cfg: BdlBenchmarkSettings,
    task: dict[str, Any],
    scores: dict[tuple[str, str], list[dict[str, float]]],
) -> None:
    (x_all, y_all), (xt, yt) = task["train"], task["test"]
    (x, y), (xc, yc) = _split_calibration(x_all, y_all)
    ood_name, x_ood = task["ood"]
    budget: Budget = task["budget"]
    hidden = list(cfg.hidden)
    methods = [m for m in cfg.methods if m != "nuts"]
    rel_fig, rel_axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3.4), squeeze=False)
    rc_fig, rc_ax = plt.subplots(figsize=(6, 4))
    for col, method in enumerate(methods):
        for rep in range(cfg.seeds):
            seed = ctx.seed + rep
            start = time.perf_counter()
            try:
                model = build_method(
                    method,
                    lambda p, d=x.shape[1]: MLP(d, hidden, 10, dropout=p),
                    "categorical",
                    (x, y),
                    budget,
                    ctx,
                    seed,
                    classes=10,
                )
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    dev = ctx.device
                    probs = predict(model, xt.to(dev), budget.predictive_samples).probs.detach().cpu()
                    probs_cal = predict(model, xc.to(dev), budget.predictive_samples).probs.detach().cpu()
                    probs_ood = predict(model, x_ood.to(dev), budget.predictive_samples).probs.detach().cpu()
                seconds = time.perf_counter() - start
                entry = _classification_scores(probs, yt, probs_ood, probs_cal, yc, seed)
                scores[(task["name"], LABELS[method])].append({**entry, "seconds": seconds})
                _, scaled = _temperature_scaled(probs, probs_cal, yc)
                ts = _classification_scores(scaled(probs), yt, scaled(probs_ood), scaled(probs_cal), yc, seed)
                scores[(task["name"], f"{LABELS[method]} + temperature")].append({**ts, "seconds": seconds})
                if rep == 0:
                    reliability_diagram(probs, yt, 15, ax=rel_axes[0, col], title=LABELS[method])
                    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1)
                    curve = risk_coverage(entropy, (probs.argmax(-1) != yt).float())
                    rc_ax.plot(curve.coverage, curve.risk, label=f"{LABELS[method]} (AURC {curve.aurc:.3f})")
            except (
                BayesdlError,
                FloatingPointError,
            ) as err:  # a diverged fit is a result to report, not a crash
                ctx.note(f"{LABELS[method]} failed on {task['name']} at seed {seed}: {err}")
                continue
    ctx.save_figure(
        rel_fig,
        f"reliability_{task['name']}",
        f"Reliability diagrams on the {task['name']} test set (seed "
        f"{ctx.seed}, 15 bins), before temperature scaling",
    )
    rc_ax.set(
        xlabel="coverage (fraction kept, most certain first)",
        ylabel="error rate among kept",
        title=f"Risk-coverage on {task['name']} (predictive entropy)",
    )
    rc_ax.legend(fontsize=7)
    ctx.save_figure(
        rc_fig,
        f"risk_coverage_{task['name']}",
        f"Risk-coverage curves on the {task['name']} test set "
        f"(seed {ctx.seed}); the shifted set is {ood_name}",
    )


def _run_regression(
    ctx: RunContext,
    cfg: BdlBenchmarkSettings,
    task: dict[str, Any],
    scores: dict[tuple[str, str], list[dict[str, float]]],
) -> None:
    (x_all, y_all), (xt, yt) = task["train"], task["test"]
    (x, y), (xc, yc) = _split_calibration(x_all, y_all)
    budget: Budget = task["budget"]
    methods = list(cfg.methods)
    band_fig, band_axes = plt.subplots(
        1, len(methods), figsize=(3.2 * len(methods), 3.2), squeeze=False, sharey=True
    )
    for col, method in enumerate(methods):
        for rep in range(cfg.seeds):
            seed = ctx.seed + rep
            start = time.perf_counter()
            try:
                model = build_method(
                    method,
                    lambda p, d=x.shape[1]: MLP(d, [50, 50], 1, activation="tanh", dropout=p),
                    "homoscedastic",
                    (x, y),
                    budget,
                    ctx,
                    seed,
                )
                dtype = torch.float64 if method == "nuts" else torch.float32
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    pred = predict(model, xt.to(ctx.device, dtype), budget.predictive_samples)
                    pred_cal = predict(model, xc.to(ctx.device, dtype), budget.predictive_samples)
                seconds = time.perf_counter() - start
                mean, var = (t.detach().cpu().float().reshape(-1) for t in (pred.mean, pred.variance))
                mean_c, var_c = (
                    t.detach().cpu().float().reshape(-1) for t in (pred_cal.mean, pred_cal.variance)
                )
                lower, upper = (t.detach().cpu().float().reshape(-1) for t in pred.interval(0.95))
                conformal = SplitConformalRegressor(alpha=0.1).calibrate(mean_c, yc, var_c.sqrt())
                c_lo, c_hi = conformal.predict_interval(mean, var.sqrt())
                scores[(task["name"], LABELS[method])].append(
                    {
                        "rmse": float((mean - yt).square().mean().sqrt()),
                        "nll": gaussian_nll(mean, var, yt),
                        "coverage": 100 * interval_coverage(lower, upper, yt),
                        "conformal_coverage": 100 * interval_coverage(c_lo, c_hi, yt),
                        "conformal_width": float((c_hi - c_lo).mean()),
                        "seconds": seconds,
                    }
                )
                if rep == 0 and task["name"] == "gap":
                    grid = torch.linspace(-4.5, 4.5, 120).unsqueeze(1)
                    with torch.random.fork_rng(devices=[]):
                        torch.manual_seed(seed)
                        g = predict(model, grid.to(ctx.device, dtype), budget.predictive_samples)
                    gm, gs = (
                        g.mean.detach().cpu().float().reshape(-1),
                        g.variance.detach().cpu().float().reshape(-1).sqrt(),
                    )
                    ax = band_axes[0, col]
                    ax.fill_between(grid[:, 0], gm - 2 * gs, gm + 2 * gs, alpha=0.3, color="tab:blue")
                    ax.plot(grid[:, 0], gm, color="tab:blue")
                    ax.scatter(x[:, 0], y, s=4, color="black")
                    ax.set_title(LABELS[method], fontsize=8)
            except (
                BayesdlError,
                FloatingPointError,
            ) as err:  # a diverged fit is a result to report, not a crash
                ctx.note(f"{LABELS[method]} failed on {task['name']} at seed {seed}: {err}")
                continue
    if task["name"] == "gap":
        ctx.save_figure(
            band_fig,
            "bands_gap",
            "Predictive mean ± 2 sd on the 'gap' toy set (seed "
            f"{ctx.seed}); the data have no points in |x| < 1",
        )
    else:
        plt.close(band_fig)


def _mean_se(values: list[float]) -> tuple[float, float | None]:
    t = torch.tensor(values, dtype=torch.float64)
    if len(t) < 2:
        return float(t.mean()), None
    return float(t.mean()), float(t.std() / math.sqrt(len(t)))


def _report(
    ctx: RunContext,
    scores: dict[tuple[str, str], list[dict[str, float]]],
    metrics_table: tuple,
    kind: str,
    out: dict[str, Any],
) -> None:
    for (task, method), entries in scores.items():
        row: dict[str, float] = {}
        for key, name, unit, better in metrics_table:
            mean, se = _mean_se([e[key] for e in entries])
            row[key] = mean
            if se is not None:
                row[f"{key}_se"] = se
            headline = key == "nll" and "temperature" not in method
            ctx.report_metric(
                name, mean, unit, better, method=method, se=se, group=f"{kind}: {task}", headline=headline
            )
        out[f"{task}/{method}"] = row


@experiment(
    "bdl-benchmark",
    "Every uncertainty method (MAP, MC dropout, ensembles, BBB, Laplace, SWAG, SGHMC, GPs, NUTS) "
    "on the same base net: classification and regression",
    config=BdlBenchmarkSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: BdlBenchmarkSettings = ctx.config
    unknown = set(cfg.methods) - set(METHODS)
    if unknown:
        raise InputError(f"methods: unknown {sorted(unknown)}; choose from {METHODS}")
    unknown = set(cfg.tasks) - set(TASKS)
    if unknown or not cfg.tasks:
        raise InputError(f"tasks: expected one or more of {TASKS}; got {tuple(cfg.tasks)}")
    out: dict[str, Any] = {}
    cls_scores: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for task in _classification_tasks(ctx, cfg):
        if task["name"] not in cfg.tasks:
            continue
        _run_classification(ctx, cfg, task, cls_scores)
    _report(ctx, cls_scores, CLASSIFICATION_METRICS, "classification", out)
    reg_scores: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for task in _regression_tasks(ctx, cfg):
        if task["name"] not in cfg.tasks:
            continue
        _run_regression(ctx, cfg, task, reg_scores)
    _report(ctx, reg_scores, REGRESSION_METRICS, "regression", out)
    ctx.note(
        f"Mean ± standard error over {cfg.seeds} seed(s); the data splits are fixed, so the error is that of "
        "training and prediction randomness, not of the test sample. OOD scores use the predictive entropy against "
        "the rotated test images. Conformal sets (APS) and intervals (normalised by the predictive sd) are "
        "calibrated on a held-out 20% of the training data, which no method trains on; their coverage is "
        "guaranteed marginally, at least 90%, whatever the method. '+ temperature' rows rescale the log "
        "predictive probabilities with one temperature fitted on the same split. NUTS runs on the regression "
        "tasks only (a 10-unit tanh net, float64, 4 chains). Time is training plus prediction on this machine."
    )
    return out
