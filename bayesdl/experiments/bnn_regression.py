"""``bnn-regression``: epistemic and aleatoric uncertainty of four methods on the heteroscedastic and gap toy data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import regression_truth, toy_regression
from ..diagnostics.metrics import crps_gaussian, gaussian_nll, interval_coverage
from ..diagnostics.uncertainty_plots import regression_bands
from ..inference.predictive import predict
from ..models.nets import MLP
from .bnn_methods import LABELS, METHODS, NetSettings, train_method
from .registry import RunContext, experiment
from .scoring import gaussian_scores, report_regression
from .settings import RunSize


@dataclass(frozen=True)
class BnnRegressionSettings:
    """Settings of ``bnn-regression`` (``--set epochs=200 --set model.hidden=100,100`` and so on).

    Attributes:
        n_train: training points per toy set.
        epochs: training epochs.
        predictive_samples: Monte Carlo samples of each predictive.
        members: deep-ensemble members.
        lr: Adam's learning rate.
        batch_size: the minibatch size.
        model: the MLP every method shares (MC dropout's rate is ``model.dropout``).
        grid_points: inputs of the band figures on [-5, 5].
    """

    n_train: int = 500
    epochs: int = 1000
    predictive_samples: int = 100
    members: int = 5
    lr: float = 1e-2
    batch_size: int = 100
    model: NetSettings = field(default_factory=lambda: NetSettings(hidden=(50, 50), dropout=0.1))
    grid_points: int = 400

    @classmethod
    def preset(cls, size: RunSize) -> BnnRegressionSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(
                n_train=60,
                epochs=2,
                predictive_samples=10,
                members=2,
                model=NetSettings(hidden=(16,), dropout=0.1),
                grid_points=100,
            )
        return cls(epochs=100) if size == "quick" else cls()


@experiment(
    "bnn-regression",
    "Heteroscedastic and gap toy regression: Bayes by Backprop, MC dropout, deep ensemble, plain net",
    config=BnnRegressionSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: BnnRegressionSettings = ctx.config
    n_train, epochs, samples, members = cfg.n_train, cfg.epochs, cfg.predictive_samples, cfg.members
    hidden = list(cfg.model.hidden)
    grid = torch.linspace(-5.0, 5.0, cfg.grid_points).unsqueeze(1)
    metrics: dict[str, Any] = {}
    fig, axes = plt.subplots(
        2, len(METHODS), figsize=(4.2 * len(METHODS), 7.0), sharey="row", layout="constrained"
    )
    epi_fig, epi_axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for row, dataset in enumerate(("heteroscedastic", "gap")):
        x, y, _ = toy_regression(dataset, n_train, seed=ctx.seed)
        x_test, y_test, _ = toy_regression(dataset, 1000, seed=ctx.seed + 1)
        for col, method in enumerate(METHODS):
            model = train_method(
                method,
                lambda p: MLP(1, hidden, 2, dropout=p),
                "heteroscedastic",
                (x, y),
                epochs,
                cfg.batch_size,
                cfg.lr,
                ctx,
                dropout=cfg.model.dropout,
                num_members=members,
            )
            test = predict(model, x_test.to(ctx.device), samples)
            lower, upper = (t.cpu() for t in test.interval(0.95))
            metrics[f"{dataset}/{method}"] = {
                "test_nll": gaussian_nll(test.mean.cpu(), test.variance.cpu(), y_test),
                "test_nll_se": gaussian_scores(test.mean, test.variance, y_test)["nll_se"],
                "rmse": float((test.mean.cpu() - y_test).square().mean().sqrt()),
                "coverage_95": interval_coverage(lower, upper, y_test),
                "crps": crps_gaussian(test.mean.cpu(), test.std.cpu(), y_test),
            }
            report_regression(ctx, metrics[f"{dataset}/{method}"], LABELS[method], group=dataset)
            on_grid = predict(model, grid.to(ctx.device), samples)
            regression_bands(
                grid,
                on_grid,
                x,
                y,
                regression_truth(grid),
                ax=axes[row, col],
                title=f"{dataset}: {LABELS[method]}",
                legend=False,
            )
            epi_axes[row].plot(grid.squeeze(1), on_grid.epistemic.cpu().sqrt(), label=LABELS[method])
        axes[row, 0].set_ylim(-4, 4)
        epi_axes[row].set_title(f"{dataset}: epistemic sd")
        epi_axes[row].set_xlabel("x")
        epi_axes[row].axvspan(-5, -3, color="grey", alpha=0.15)
        epi_axes[row].axvspan(3, 5, color="grey", alpha=0.15)
        if dataset == "gap":
            epi_axes[row].axvspan(-1, 1, color="grey", alpha=0.15)
        epi_axes[row].legend(fontsize=7)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8)
    ctx.save_figure(
        fig,
        "regression_bands",
        "Predictive mean with aleatoric (blue) and total (orange) +-2 sd bands; "
        "top: heteroscedastic noise, bottom: a gap in the inputs",
    )
    ctx.save_figure(epi_fig, "epistemic_sd", "Epistemic standard deviation along x; shaded: no training data")
    ctx.note(
        "Intervals and CRPS use the moment-matched Gaussian of each predictive (mean, epistemic + aleatoric variance). "
        "The plain net has no epistemic part. Test points come from the training distribution."
    )
    metrics["settings"] = {
        "n_train": n_train,
        "epochs": epochs,
        "hidden": hidden,
        "predictive_samples": samples,
    }
    return metrics
