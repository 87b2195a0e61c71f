"""NUTS over every weight of a small Bayesian neural network, next to Bayes by Backprop and MC dropout.

Data: the 1-D ``gap`` toy regression (no training inputs in [-1, 1]). The HMC model is ``to_pyro_model(net)``:
the same ``MLP(1, [hidden], 1, activation="tanh")`` turned into a Pyro model with N(0, 1) priors on all weights and
a HalfNormal(1) prior on the noise sd; ``sample_posterior`` runs NUTS on all chains at once (float64, full batch).
Bayes by Backprop and MC dropout fit a wider tanh MLP 1-50-1 with the shared Trainer.

A BNN posterior is multimodal (hidden units can be permuted and their signs flipped), so the weights' R-hat across
chains is large by construction; the script also reports the R-hat of the predicted function at grid inputs,
which is invariant to those symmetries.

    python examples/mcmc_bnn.py                  # 200 points, hidden 20, 4 chains x (500 + 500), tree depth 7
    python examples/mcmc_bnn.py --hidden 10 --draws 200

Prints test NLL, RMSE, 95% coverage and the epistemic sd in the gap against near the data for each method;
writes ``predictive_bands.png`` and ``epistemic_sd.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.data import regression_truth, toy_regression  # noqa: E402
from bayesdl.diagnostics import describe_mcmc, to_inference_data  # noqa: E402
from bayesdl.diagnostics.arviz_export import rhat_of_draws  # noqa: E402
from bayesdl.diagnostics.metrics import gaussian_nll, interval_coverage  # noqa: E402
from bayesdl.diagnostics.uncertainty_plots import regression_bands  # noqa: E402
from bayesdl.inference import Trainer, sample_posterior  # noqa: E402
from bayesdl.inference.predictive import predict  # noqa: E402
from bayesdl.models import MLP, BayesByBackprop, MCDropout, PyroPosterior, to_pyro_model  # noqa: E402
from bayesdl.nn.priors import GaussianPrior  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = make_parser("mcmc_bnn", __doc__)
    parser.add_argument("--num-train", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=20, help="hidden units of the HMC network")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--draws", type=int, default=500, help="kept draws per chain")
    parser.add_argument("--max-tree-depth", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=1500, help="epochs of Bayes by Backprop and MC dropout")
    parser.add_argument("--samples", type=int, default=200, help="weight draws per prediction (BbB, dropout)")
    args = parse_args(
        parser,
        argv,
        smoke={
            "num_train": 40,
            "hidden": 5,
            "chains": 2,
            "warmup": 15,
            "draws": 15,
            "max_tree_depth": 4,
            "epochs": 5,
            "samples": 20,
        },
    )

    x, y, _ = toy_regression("gap", args.num_train, seed=args.seed)
    x_test, y_test, _ = toy_regression("gap", 500, seed=args.seed + 1)
    grid = torch.linspace(-4.5, 4.5, 200).unsqueeze(1)
    in_gap, near = grid.squeeze(1).abs() < 1.0, (grid.squeeze(1).abs() > 1.2) & (grid.squeeze(1).abs() < 2.8)

    bnn = to_pyro_model(
        MLP(1, [args.hidden], 1, activation="tanh"), prior_scale=1.0, likelihood="homoscedastic"
    )
    bnn = bnn.double().to(args.device)
    posterior = sample_posterior(
        bnn,
        x.double().to(args.device),
        y.double().to(args.device),
        num_chains=args.chains,
        num_warmup=args.warmup,
        num_samples=args.draws,
        seed=args.seed,
        max_tree_depth=args.max_tree_depth,
    )
    print("NUTS:", describe_mcmc(to_inference_data(posterior)).text.split("\n")[0])
    hmc = PyroPosterior(bnn, samples=posterior.flat_samples())
    num_hmc = args.chains * args.draws

    fit = dict(epochs=args.epochs, batch_size=20, lr=1e-2, device=args.device, seed=args.seed)
    bbb = BayesByBackprop(
        MLP(1, [50], 1, activation="tanh"),
        likelihood="homoscedastic",
        prior=GaussianPrior(1.0),
        estimator="local_reparam",
    )
    Trainer(bbb, **fit).fit((x, y))
    dropout = MCDropout(MLP(1, [50], 1, activation="tanh", dropout=0.1), likelihood="homoscedastic")
    Trainer(dropout, optimizer_kwargs={"weight_decay": 1e-4}, **fit).fit((x, y))

    methods = {
        "HMC (NUTS)": (hmc, torch.float64, num_hmc),
        "Bayes by Backprop": (bbb, torch.float32, args.samples),
        "MC dropout": (dropout, torch.float32, args.samples),
    }
    results: dict[str, dict[str, float]] = {}
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.6), sharey=True)
    epi_fig, epi_ax = plt.subplots(figsize=(6, 3.2))
    for ax, (label, (model, dtype, num)) in zip(axes, methods.items()):
        test = predict(model, x_test.to(args.device, dtype), num)
        on_grid = predict(model, grid.to(args.device, dtype), num)
        low, high = (t.cpu().float() for t in test.interval(0.95))
        mean, variance = test.mean.cpu().float(), test.variance.cpu().float()
        epistemic_sd = on_grid.epistemic.cpu().float().sqrt()
        results[label] = {
            "test_nll": gaussian_nll(mean, variance, y_test),
            "rmse": float((mean - y_test).square().mean().sqrt()),
            "coverage_95": interval_coverage(low, high, y_test),
            "epistemic_sd_gap": float(epistemic_sd[in_gap].mean()),
            "epistemic_sd_near_data": float(epistemic_sd[near].mean()),
        }
        print(f"{label:18s} " + ", ".join(f"{k} {v:.3f}" for k, v in results[label].items()))
        regression_bands(grid, on_grid, x, y, regression_truth(grid), ax=ax, title=label)
        epi_ax.plot(grid.squeeze(1), epistemic_sd, label=label)
    axes[0].set_ylim(-4, 4)
    epi_ax.axvspan(-1, 1, color="grey", alpha=0.15)
    epi_ax.set(xlabel="x", title="epistemic sd; shaded: the gap")
    epi_ax.legend(fontsize=7)
    save_figure(fig, args, "predictive_bands")
    save_figure(epi_fig, args, "epistemic_sd")

    with torch.no_grad():  # the predicted mean at the grid, per chain: the draws come back chain-major
        f = hmc.predictive_samples(grid.to(args.device, torch.float64), num_hmc).means.reshape(
            args.chains, args.draws, -1
        )
    function_rhat = rhat_of_draws(f)
    print(
        f"function-space R-hat across chains: max {float(function_rhat.max()):.3f}, median {float(function_rhat.median()):.3f}"
    )
    return results


if __name__ == "__main__":
    main()
