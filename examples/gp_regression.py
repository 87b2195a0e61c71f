"""Gaussian-process regression three ways (GPyTorch underneath): exact GP, sparse variational GP, deep kernel learning.

* exact GP: f ~ GP(0, k_RBF), y = f(x) + eps, hyperparameters fitted by maximising the exact marginal likelihood
  (full batch; Rasmussen & Williams 2006, ch. 5);
* SVGP: M inducing points with a variational Gaussian over their values; the minibatch ELBO scales to large N
  (Hensman, Fusi & Lawrence 2013, arXiv:1309.6835);
* DKL: an MLP feature extractor feeding an SVGP, trained jointly (Wilson et al. 2016, arXiv:1511.02222).

Data: the ``gap`` toy set (no training inputs in (-1, 1); test inputs uniform on [-3, 3], so half of them test the
hole) and the monthly Mauna Loa CO2 series shipped with statsmodels (a random quarter of the months held out;
a quadratic trend fitted on the training months is removed, inputs in centred months). Targets (and the gap
set's inputs) are standardised for fitting; metrics are in the original units. ``predict`` gives the mean, Var f (epistemic) and
the noise variance (aleatoric).

    python examples/gp_regression.py                       # 500 points; 300/600/600 epochs; 64 (CO2: 200) inducing
    python examples/gp_regression.py --data co2 --inducing 100

Prints test NLL, RMSE and 95% coverage per model and data set; writes ``bands_<data>.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import load_co2_monthly, regression_truth, toy_regression  # noqa: E402
from bayesdl.diagnostics.metrics import gaussian_nll, interval_coverage  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.models import DeepKernelGP, ExactGPRegression, SparseVariationalGP  # noqa: E402


def gap_data(n_train: int, n_test: int, seed: int) -> tuple[torch.Tensor, ...]:
    x, y, _ = toy_regression("gap", n_train, seed=seed)
    x_test = torch.as_tensor(np.random.default_rng(seed + 1).uniform(-3, 3, (n_test, 1)), dtype=torch.float32)
    y_test = regression_truth(x_test[:, 0]) + 0.1 * torch.randn(
        n_test, generator=torch.Generator().manual_seed(seed + 2)
    )
    return x, y, x_test, y_test


def co2_data(seed: int, max_train: int | None) -> tuple[torch.Tensor, ...]:
    """CO2 months as (x, y) in months and ppm, with the quadratic trend of the training months removed."""
    years, ppm = load_co2_monthly()  # years [N, 1], ppm [N]
    years = years[:, 0]
    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(ppm)))
    test, train = order[: len(ppm) // 4].sort().values, order[len(ppm) // 4 :].sort().values
    train = train[torch.linspace(0, len(train) - 1, min(len(train), max_train or len(train))).round().long()]
    months = 12.0 * years
    trend = np.polyfit(months[train].double().numpy(), ppm[train].double().numpy(), 2)
    detrended = ppm - torch.as_tensor(np.polyval(trend, months.double().numpy()), dtype=torch.float32)
    return months[train].unsqueeze(1), detrended[train], months[test].unsqueeze(1), detrended[test]


def fit(kind: str, x: torch.Tensor, y: torch.Tensor, args, num_inducing: int):
    torch.manual_seed(args.seed)
    common = dict(device=args.device, seed=args.seed)
    if kind == "exact GP":
        model = ExactGPRegression.from_data(x, y, kernel="rbf")
        Trainer(model, lr=0.05, epochs=args.exact_epochs, batch_size=len(x), **common).fit((x, y))
    elif kind == "SVGP":
        model = SparseVariationalGP(1, num_inducing=num_inducing, kernel="rbf").initialize_inducing_points(
            x, seed=args.seed
        )
        Trainer(model, lr=0.03, epochs=args.svgp_epochs, batch_size=256, **common).fit((x, y))
    else:
        model = DeepKernelGP(
            num_features=2, num_inducing=num_inducing, num_inputs=1, hidden_sizes=args.hidden
        )
        model.initialize_inducing_points(x, seed=args.seed)
        Trainer(model, lr=0.01, epochs=args.svgp_epochs, batch_size=256, **common).fit((x, y))
    return model


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("gp_regression", __doc__)
    parser.add_argument("--data", choices=["gap", "co2", "both"], default="both")
    parser.add_argument("--num-train", type=int, default=500, help="training points of the gap set")
    parser.add_argument("--exact-epochs", type=int, default=300)
    parser.add_argument("--svgp-epochs", type=int, default=600, help="epochs of SVGP and DKL")
    parser.add_argument(
        "--inducing", type=int, default=64, help="inducing points (CO2 uses 200, or this if larger)"
    )
    parser.add_argument(
        "--hidden", type=int, nargs="+", default=[64, 64], help="DKL feature extractor widths"
    )
    parser.add_argument(
        "--co2-max-train", type=int, default=None, help="thin the CO2 training months to this many"
    )
    args = parse_args(
        parser,
        argv,
        smoke={
            "num_train": 60,
            "exact_epochs": 10,
            "svgp_epochs": 3,
            "inducing": 8,
            "hidden": [16],
            "co2_max_train": 80,
        },
    )

    sets = {
        "gap": lambda: gap_data(args.num_train, 1000, args.seed),
        "co2": lambda: co2_data(args.seed, args.co2_max_train),
    }
    results: dict[str, dict[str, float]] = {}
    for name in ["gap", "co2"] if args.data == "both" else [args.data]:
        x, y, x_test, y_test = sets[name]()
        # CO2 inputs stay in (centred) months: an RBF lengthscale that starts below the 12-month cycle grows into it,
        # where one that starts at a standardised 1 (about 12 years) would explain the cycle away as noise.
        x_mean, y_mean, y_sd = x.mean(), y.mean(), y.std()
        x_sd = x.std() if name == "gap" else torch.tensor(1.0)
        xs, ys, xs_test = (x - x_mean) / x_sd, (y - y_mean) / y_sd, (x_test - x_mean) / x_sd
        grid = torch.linspace(float(xs.min()) - 0.3, float(xs.max()) + 0.3, 400).unsqueeze(1)
        inducing = max(args.inducing, 200) if name == "co2" and not args.smoke else args.inducing
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
        for ax, kind in zip(axes, ("exact GP", "SVGP", "DKL")):
            model = fit(kind, xs, ys, args, min(inducing, len(xs)))
            pred = predict(model, xs_test.to(args.device))
            mean, variance = y_mean + y_sd * pred.mean.cpu(), y_sd**2 * pred.variance.cpu()
            low, high = mean - 1.96 * variance.sqrt(), mean + 1.96 * variance.sqrt()
            scores = {
                "test_nll": gaussian_nll(mean, variance, y_test),
                "rmse": float((mean - y_test).square().mean().sqrt()),
                "coverage_95": interval_coverage(low, high, y_test),
            }
            results[f"{name}/{kind}"] = scores
            print(
                f"{name:4s} {kind:9s} test NLL {scores['test_nll']:7.3f}  RMSE {scores['rmse']:.3f}  "
                f"95% coverage {scores['coverage_95']:.3f}"
            )
            on_grid = predict(model, grid.to(args.device))
            g_mean, g_sd = y_mean + y_sd * on_grid.mean.cpu(), y_sd * on_grid.variance.cpu().sqrt()
            per_unit = 12.0 if name == "co2" else 1.0  # plot CO2 against the year
            x_plot = ((grid[:, 0] * x_sd + x_mean) / per_unit).numpy()
            ax.fill_between(
                x_plot, g_mean - 2 * g_sd, g_mean + 2 * g_sd, color="C1", alpha=0.3, label="mean +- 2 sd"
            )
            ax.plot(x_plot, g_mean, color="C1")
            ax.scatter(x[:, 0] / per_unit, y, s=3, color="k", label="training data")
            ax.set(
                title=f"{name}: {kind}",
                xlabel="year" if name == "co2" else "x",
                ylabel="CO2 minus the quadratic trend (ppm)" if name == "co2" else "y",
            )
        axes[0].legend(fontsize=7)
        save_figure(fig, args, f"bands_{name}")
    return results


if __name__ == "__main__":
    main()
