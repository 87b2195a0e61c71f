"""``gp-regression``: exact GP, sparse variational GP and deep kernel learning side by side, and on the two
toy sets next to the BNN methods of ``bnn-regression`` (plain net, MC dropout, deep ensemble, Bayes by Backprop).

Three data sets: the heteroscedastic and the gap toy sets of :func:`bayesdl.data.toy_regression`
(the gap test points cover the hole in (-1, 1)), and the monthly Mauna Loa CO2 series that ships
with statsmodels (a random 25% of the months held out). Inputs and targets are standardised with
training statistics for fitting; every metric is reported in the original units: test NLL of the
Gaussian predictive (nats per point), RMSE, the fraction of test targets inside the central 95%
interval, and the CRPS of the Gaussian predictive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..data import heteroscedastic_noise_std, load_co2_monthly, regression_truth, toy_regression
from ..diagnostics.metrics import crps_gaussian, gaussian_nll, interval_coverage
from ..errors import InputError
from ..inference import Trainer
from ..inference.predictive import RegressionPrediction, predict
from ..models.gp import DeepKernelGP, ExactGPRegression, SparseVariationalGP
from ..models.nets import MLP
from ..validation import check_tensor
from .bnn_methods import LABELS as BNN_LABELS
from .bnn_methods import METHODS, train_method
from .registry import RunContext, experiment
from .scoring import gaussian_scores, report_regression
from .settings import RunSize

LABELS = {"exact_gp": "exact GP", "svgp": "SVGP", "dkl": "deep kernel learning", **BNN_LABELS}

MODELS = ("exact_gp", "svgp", "dkl")
# The BNN methods of bnn-regression, compared on the two toy sets (not on CO2; see the run notes).
BNN_SETS = ("heteroscedastic", "gap")


# ----------------------------------------------------------------------------------------- data
@dataclass
class RegressionSplit:
    """A standardised train/test split with what is needed to map predictions back to original units.

    Original targets are y = trend(x) + y_std * y_standardised, with ``trend`` a polynomial in the
    original x (a constant for the toy sets, a quadratic for CO2) fitted on the training set.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_mean: float
    x_std: float
    trend: tuple[float, ...]
    y_std: float
    x_label: str
    x_display_scale: float = 1.0

    def to_original_x(self, x_std: torch.Tensor) -> torch.Tensor:
        """Original inputs [N] from standardised inputs [N, 1]."""
        return x_std[:, 0].cpu() * self.x_std + self.x_mean

    def trend_at(self, x_std: torch.Tensor) -> torch.Tensor:
        """The trend (in original units of y) at standardised inputs [N, 1]."""
        x = self.to_original_x(x_std).double().numpy()
        return torch.as_tensor(np.polyval(np.asarray(self.trend), x), dtype=torch.float32)

    def original_y(self, x_std: torch.Tensor, y_std: torch.Tensor) -> torch.Tensor:
        """Original targets from standardised ones."""
        return self.trend_at(x_std) + self.y_std * y_std.cpu()


def _standardise(
    name: str,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    x_te: torch.Tensor,
    y_te: torch.Tensor,
    x_label: str,
    scale_x: bool = True,
    trend_degree: int = 0,
) -> RegressionSplit:
    xm = float(x_tr.mean())
    xs = float(x_tr.std()) if scale_x else 1.0
    trend = tuple(
        float(c) for c in np.polyfit(x_tr[:, 0].double().numpy(), y_tr.double().numpy(), trend_degree)
    )

    def detrend(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return y - torch.as_tensor(
            np.polyval(np.asarray(trend), x[:, 0].double().numpy()), dtype=torch.float32
        )

    ys = float(detrend(x_tr, y_tr).std())
    return RegressionSplit(
        name,
        (x_tr - xm) / xs,
        detrend(x_tr, y_tr) / ys,
        (x_te - xm) / xs,
        detrend(x_te, y_te) / ys,
        xm,
        xs,
        trend,
        ys,
        x_label,
    )


def toy_split(name: str, n_train: int, n_test: int, seed: int) -> RegressionSplit:
    """The toy set ``name`` with test inputs drawn uniformly on [-3, 3] (so the gap set is tested inside its hole)."""
    x_tr, y_tr, _ = toy_regression(name, n_train, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x_te = torch.as_tensor(rng.uniform(-3.0, 3.0, n_test), dtype=torch.float32).unsqueeze(1)
    sd = heteroscedastic_noise_std(x_te[:, 0]) if name == "heteroscedastic" else torch.full((n_test,), 0.1)
    y_te = regression_truth(x_te[:, 0]) + sd * torch.as_tensor(rng.normal(size=n_test), dtype=torch.float32)
    return _standardise(name, x_tr, y_tr, x_te, y_te, "x")


def co2_split(seed: int, test_fraction: float = 0.25, max_train: int | None = None) -> RegressionSplit:
    """A random split of the monthly CO2 months (interpolation), optionally thinning the training months."""
    t, y = load_co2_monthly()
    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(y)))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test].sort().values, order[n_test:].sort().values
    if max_train is not None and len(train) > max_train:
        train = train[torch.linspace(0, len(train) - 1, max_train).round().long()]
    # A quadratic trend fitted on the training months is removed first, and inputs are measured in
    # months (centred): a single stationary RBF kernel, starting from a lengthscale below the seasonal
    # scale, then grows into the seasonal cycle instead of explaining the cycle away as noise.
    split = _standardise(
        "co2", 12.0 * t[train], y[train], 12.0 * t[test], y[test], "year", scale_x=False, trend_degree=2
    )
    split.x_display_scale = 1.0 / 12.0
    return split


# ----------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class Settings:
    """Settings of ``gp-regression`` (``--set svgp_epochs=1000 --set num_inducing=128``).

    Attributes:
        n_train: training points of each toy set.
        n_test: test points of each toy set.
        exact_epochs: Adam epochs (full batch) on the exact GP's marginal likelihood.
        svgp_epochs: SVGP training epochs.
        dkl_epochs: deep-kernel-learning training epochs.
        num_inducing: inducing points of SVGP and DKL on the toy sets.
        batch_size: the GPs' minibatch size.
        hidden: DKL's feature-extractor widths.
        co2_max_train: the most CO2 training months (None: all).
        co2_num_inducing: inducing points on CO2.
        bnn_epochs: training epochs of the BNN methods (toy sets only).
        bnn_hidden: the BNN methods' MLP widths.
        bnn_members: deep-ensemble members.
        predictive_samples: Monte Carlo samples of the sampling predictives (BNNs).
    """

    n_train: int = 500
    n_test: int = 1000
    exact_epochs: int = 300
    svgp_epochs: int = 600
    dkl_epochs: int = 600
    num_inducing: int = 64
    batch_size: int = 256
    hidden: tuple[int, ...] = (64, 64)
    co2_max_train: int | None = None
    co2_num_inducing: int = 200
    bnn_epochs: int = 1000
    bnn_hidden: tuple[int, ...] = (50, 50)
    bnn_members: int = 5
    predictive_samples: int = 100

    @classmethod
    def preset(cls, size: RunSize) -> Settings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(60, 100, 10, 3, 3, 8, 30, (16,), 80, 16, 2, (16,), 2, 10)
        if size == "quick":
            return cls(300, 500, 100, 200, 200, 32, 256, (32, 32), None, 128, 100, (50, 50), 5, 100)
        return cls()


def fit_model(
    kind: str, split: RegressionSplit, s: Settings, ctx: RunContext
) -> tuple[torch.nn.Module, list[float]]:
    """Build and train one model through the shared trainer; returns the model and its loss history."""
    x, y = split.x_train, split.y_train
    common = dict(
        device=ctx.device,
        progress=ctx.progress_label(f"training {LABELS.get(kind, kind)} on {split.name}"),
        seed=ctx.seed,
    )
    # 44 seasonal cycles need a few inducing points each; the toy functions need far fewer.
    num_inducing = min(s.co2_num_inducing if split.name == "co2" else s.num_inducing, len(x))
    torch.manual_seed(ctx.seed)
    if kind == "exact_gp":
        model: Any = ExactGPRegression.from_data(x, y, kernel="rbf")
        trainer = Trainer(model, lr=0.05, epochs=s.exact_epochs, batch_size=len(x), **common)
    elif kind == "svgp":
        model = SparseVariationalGP(1, num_inducing=num_inducing, kernel="rbf").initialize_inducing_points(
            x, seed=ctx.seed
        )
        trainer = Trainer(model, lr=0.03, epochs=s.svgp_epochs, batch_size=s.batch_size, **common)
    elif kind == "dkl":
        model = DeepKernelGP(
            num_features=2, num_inducing=num_inducing, num_inputs=1, hidden_sizes=list(s.hidden)
        )
        model.initialize_inducing_points(x, seed=ctx.seed)
        trainer = Trainer(model, lr=0.01, epochs=s.dkl_epochs, batch_size=s.batch_size, **common)
    else:
        raise InputError(f"unknown model {kind!r}; expected one of {list(MODELS)}")
    history = trainer.fit((x.to(ctx.device), y.to(ctx.device)))
    return model, history.losses


def fit_bnn(method: str, split: RegressionSplit, s: Settings, ctx: RunContext) -> torch.nn.Module:
    """Train one BNN method of ``bnn-regression`` (same helper, architecture and heteroscedastic likelihood) on the
    standardised training set of ``split``."""
    hidden = list(s.bnn_hidden)
    return train_method(
        method,
        lambda p: MLP(1, hidden, 2, dropout=p),
        "heteroscedastic",
        (split.x_train.to(ctx.device), split.y_train.to(ctx.device)),
        s.bnn_epochs,
        100,
        1e-2,
        ctx,
        dropout=0.1,
        num_members=s.bnn_members,
    )


def predict_original_units(
    model: Any, split: RegressionSplit, x_std: torch.Tensor, num_samples: int = 100
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predictive mean, latent (epistemic) variance and total variance at standardised inputs, in original units.

    ``num_samples`` posterior draws are used by the sampling methods (BNNs); the GPs' predictives are closed form.
    """
    check_tensor(x_std, "x_std", ndim=2)
    pred = predict(model, x_std, num_samples)
    scale2 = split.y_std**2
    return split.original_y(x_std, pred.mean), pred.epistemic.cpu() * scale2, pred.variance.cpu() * scale2


def evaluate(model: Any, split: RegressionSplit, num_samples: int = 100) -> dict[str, float]:
    """Test NLL, RMSE, 95% coverage and CRPS in the original units of y (of the moment-matched Gaussian predictive)."""
    mean, _, var = predict_original_units(model, split, split.x_test, num_samples)
    y = split.original_y(split.x_test, split.y_test)
    lower, upper = RegressionPrediction(mean, var, torch.zeros_like(var)).interval(0.95)
    return {
        "test_nll": gaussian_nll(mean, var, y),
        "test_nll_se": gaussian_scores(mean, var, y)["nll_se"],
        "rmse": float(((mean - y) ** 2).mean().sqrt()),
        "coverage_95": interval_coverage(lower, upper, y),
        "crps": crps_gaussian(mean, var.sqrt(), y),
    }


def plot_bands(
    split: RegressionSplit, models: dict[str, Any], ctx: RunContext, num_samples: int = 100
) -> None:
    """One panel per model: training data, predictive mean, the 95% total band and the 95% latent band."""
    x_tr = split.to_original_x(split.x_train) * split.x_display_scale
    y_tr = split.original_y(split.x_train, split.y_train)
    lo, hi = (
        float(min(split.x_train.min(), split.x_test.min())),
        float(max(split.x_train.max(), split.x_test.max())),
    )
    pad = 0.15 * (hi - lo) if split.name != "co2" else 0.05 * (hi - lo)
    grid = torch.linspace(lo - pad, hi + pad, 2000 if split.name == "co2" else 400).unsqueeze(1)
    x_grid = split.to_original_x(grid)
    x_show = x_grid * split.x_display_scale
    rows = 2 if split.name == "co2" else 1  # CO2: a second row zooms into the last six years
    fig, axes = plt.subplots(
        rows, len(models), figsize=(4.2 * len(models), 3.2 * rows), sharey="row", squeeze=False
    )
    for col, (name, model) in enumerate(models.items()):
        mean, latent, total = predict_original_units(model, split, grid, num_samples)
        for row in range(rows):
            ax = axes[row, col]
            ax.fill_between(
                x_show,
                mean - 1.96 * total.sqrt(),
                mean + 1.96 * total.sqrt(),
                color="C0",
                alpha=0.2,
                label="95% predictive",
            )
            ax.fill_between(
                x_show,
                mean - 1.96 * latent.sqrt(),
                mean + 1.96 * latent.sqrt(),
                color="C1",
                alpha=0.35,
                label="95% latent f",
            )
            ax.scatter(x_tr, y_tr, s=3 if split.name == "co2" else 5, color="k", alpha=0.5, label="train")
            ax.plot(x_show, mean, color="C0", lw=1.2, label="mean")
            if split.name != "co2":
                ax.plot(x_grid, regression_truth(x_grid), "k--", lw=0.8, label="truth")
            ax.set_xlabel(split.x_label)
        axes[0, col].set_title(LABELS.get(name, name))
        if rows == 2:
            x_te = split.to_original_x(split.x_test) * split.x_display_scale
            y_te = split.original_y(split.x_test, split.y_test)
            start = float(x_show.max()) - 8.0
            axes[1, col].scatter(x_te, y_te, s=8, marker="x", color="C3", label="test")
            axes[1, col].set_xlim(start, float(x_show.max()))
            keep = x_show >= start
            axes[1, col].set_ylim(
                float((mean - 2.5 * total.sqrt())[keep].min()), float((mean + 2.5 * total.sqrt())[keep].max())
            )
    axes[0, 0].legend(fontsize=7, loc="upper left")
    ctx.save_figure(
        fig,
        f"bands_{split.name}",
        f"{split.name}: predictive mean with 95% total (blue) and latent-function (orange) bands",
    )


@experiment(
    "gp-regression",
    "Exact GP, SVGP and deep kernel learning (GPyTorch) next to the BNN methods on toy data, GPs on Mauna Loa CO2: NLL, RMSE, coverage, CRPS",
    config=Settings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    s: Settings = ctx.config
    splits = [
        toy_split("heteroscedastic", s.n_train, s.n_test, ctx.seed),
        toy_split("gap", s.n_train, s.n_test, ctx.seed),
        co2_split(ctx.seed, max_train=s.co2_max_train),
    ]
    metrics: dict[str, Any] = {}
    for split in splits:
        fitted: dict[str, Any] = {}
        metrics[split.name] = {}
        for kind in MODELS:
            model, losses = fit_model(kind, split, s, ctx)
            fitted[kind] = model
            metrics[split.name][kind] = {
                **evaluate(model, split, s.predictive_samples),
                "final_train_loss": losses[-1],
            }
        if split.name in BNN_SETS:
            for method in METHODS:
                torch.manual_seed(ctx.seed)
                fitted[method] = fit_bnn(method, split, s, ctx)
                metrics[split.name][method] = evaluate(fitted[method], split, s.predictive_samples)
        for kind, scores in list(metrics[split.name].items()):
            report_regression(
                ctx,
                scores,
                LABELS.get(kind, kind),
                group=split.name,
                y_unit="ppm" if split.name == "co2" else "",
            )
        plot_bands(split, fitted, ctx, s.predictive_samples)
        metrics[split.name]["num_train"] = len(split.y_train)
        metrics[split.name]["num_test"] = len(split.y_test)
    ctx.note(
        "Training losses are per example in nats: the exact GP's is the negative log marginal likelihood; "
        "the SVGP's and DKL's are negative ELBOs, upper bounds on it. All three use a homoscedastic Gaussian "
        "likelihood, so none can follow the growing noise of the heteroscedastic set."
    )
    ctx.note(
        "The BNN methods (plain net, MC dropout, deep ensemble, Bayes by Backprop) are trained exactly as in "
        "bnn-regression (shared helper, MLP 1-"
        + "-".join(map(str, s.bnn_hidden))
        + "-2, heteroscedastic Gaussian "
        "likelihood, "
        + str(s.bnn_epochs)
        + " epochs) on the same standardised toy splits; they are not run on CO2. "
        "Their intervals and CRPS use the moment-matched Gaussian of the predictive; 'latent f' is their epistemic part."
    )
    ctx.note(
        "Test metrics are in the original units of y (CO2 in ppm). Test inputs of the gap set cover the hole "
        "in (-1, 1); CO2 test months are a random 25% of the series (interpolation, not forecasting)."
    )
    metrics["settings"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(s).items()}
    return metrics
