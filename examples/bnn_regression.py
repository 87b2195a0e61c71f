"""Epistemic and aleatoric uncertainty of four methods on 1-D toy regression.

Every method wraps the same MLP(1, hidden, 2), whose two outputs are the mean and the log-variance of a Gaussian
(a heteroscedastic likelihood, Kendall & Gal 2017, arXiv:1703.04977):

* a plain network (maximum likelihood; no epistemic uncertainty);
* MC dropout (Gal & Ghahramani 2016, arXiv:1506.02142): dropout kept on at prediction time;
* a deep ensemble of independently initialised nets (Lakshminarayanan et al. 2017, arXiv:1612.01474);
* Bayes by Backprop (Blundell et al. 2015, arXiv:1505.05424): a mean-field Gaussian over the weights with a
  N(0, 1) prior, trained on NLL + KL/N with the local reparameterisation trick.

Two data sets: ``heteroscedastic`` (noise that grows with |x|) and ``gap`` (no training inputs in [-1, 1]).
``predict`` returns the predictive mean and splits its variance by the law of total variance into the epistemic
part (variance of the mean over weight draws or members) and the aleatoric part (the mean noise variance).

    python examples/bnn_regression.py                          # 1000 epochs, hidden 50-50, 500 points
    python examples/bnn_regression.py --epochs 200 --data gap

Prints test NLL, RMSE and 95% coverage per method and writes ``bands_<data>.png`` and ``epistemic_sd.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import regression_truth, toy_regression  # noqa: E402
from bayesdl.diagnostics.metrics import gaussian_nll, interval_coverage  # noqa: E402
from bayesdl.diagnostics.uncertainty_plots import regression_bands  # noqa: E402
from bayesdl.inference import Trainer, fit_ensemble  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.models import MLP, BayesByBackprop, DeepEnsemble, MCDropout, PlainNet  # noqa: E402
from bayesdl.nn.priors import GaussianPrior  # noqa: E402


def fit_methods(x: torch.Tensor, y: torch.Tensor, args) -> dict[str, torch.nn.Module]:
    """Build the four methods on the same architecture and train each with the shared Trainer."""
    fit = dict(epochs=args.epochs, batch_size=100, lr=args.lr, device=args.device, seed=args.seed)
    plain = PlainNet(MLP(1, args.hidden, 2), likelihood="heteroscedastic")
    Trainer(plain, **fit).fit((x, y))
    dropout = MCDropout(MLP(1, args.hidden, 2, dropout=args.dropout), likelihood="heteroscedastic")
    Trainer(dropout, optimizer_kwargs={"weight_decay": 1e-4}, **fit).fit((x, y))
    ensemble = DeepEnsemble(
        MLP(1, args.hidden, 2), num_members=args.members, likelihood="heteroscedastic", seed=args.seed
    )
    fit_ensemble(ensemble, (x, y), **fit)  # each member trained by the Trainer, with its own seed
    bbb = BayesByBackprop(
        MLP(1, args.hidden, 2),
        likelihood="heteroscedastic",
        prior=GaussianPrior(1.0),
        estimator="local_reparam",
    )
    Trainer(bbb, **fit).fit((x, y))
    return {"plain net": plain, "MC dropout": dropout, "deep ensemble": ensemble, "Bayes by Backprop": bbb}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("bnn_regression", __doc__)
    parser.add_argument("--data", choices=["heteroscedastic", "gap", "both"], default="both")
    parser.add_argument("--num-train", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[50, 50], help="hidden layer widths")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--members", type=int, default=5, help="deep-ensemble size")
    parser.add_argument("--samples", type=int, default=100, help="weight draws per prediction")
    args = parse_args(
        parser, argv, smoke={"num_train": 60, "epochs": 2, "hidden": [16], "members": 2, "samples": 5}
    )

    datasets = ["heteroscedastic", "gap"] if args.data == "both" else [args.data]
    grid = torch.linspace(-5.0, 5.0, 400).unsqueeze(1)
    results: dict[str, dict[str, float]] = {}
    epi_fig, epi_axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.2), squeeze=False)
    for row, name in enumerate(datasets):
        x, y, _ = toy_regression(name, args.num_train, seed=args.seed)
        x_test, y_test, _ = toy_regression(name, 1000, seed=args.seed + 1)
        models = fit_methods(x, y, args)
        fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.4), sharey=True)
        print(f"{name}: {'method':18s} {'NLL':>7s} {'RMSE':>6s} {'cover95':>7s}")
        for ax, (label, model) in zip(axes, models.items()):
            test = predict(model, x_test.to(args.device), args.samples)
            low, high = (t.cpu() for t in test.interval(0.95))
            mean, variance = test.mean.cpu(), test.variance.cpu()
            scores = {
                "test_nll": gaussian_nll(mean, variance, y_test),
                "rmse": float((mean - y_test).square().mean().sqrt()),
                "coverage_95": interval_coverage(low, high, y_test),
            }
            results[f"{name}/{label}"] = scores
            print(
                f"{name}: {label:18s} {scores['test_nll']:7.3f} {scores['rmse']:6.3f} {scores['coverage_95']:7.3f}"
            )
            on_grid = predict(model, grid.to(args.device), args.samples)
            regression_bands(grid, on_grid, x, y, regression_truth(grid), ax=ax, title=label)
            epi_axes[0, row].plot(grid.squeeze(1), on_grid.epistemic.cpu().sqrt(), label=label)
        axes[0].set_ylim(-4, 4)
        save_figure(fig, args, f"bands_{name}")
        epi_axes[0, row].set(title=f"{name}: epistemic sd", xlabel="x")
        epi_axes[0, row].legend(fontsize=7)
    save_figure(epi_fig, args, "epistemic_sd")
    return results


if __name__ == "__main__":
    main()
