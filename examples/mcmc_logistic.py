"""Bayesian logistic regression on scikit-learn's breast-cancer data by batched NUTS, checked with ArviZ.

    w ~ N(0, s^2 I_30),   b ~ N(0, 5^2),   y_i ~ Bernoulli(sigmoid(x_i . w + b))

The 30 features are standardised with the training mean and sd (a random 75/25 split). ``sample_posterior`` runs
all chains as one batched computation in float64; the posterior predictive probability of each test point
averages sigmoid(x . w + b) over every draw. PSIS-LOO (ArviZ) estimates the expected log predictive density of
the training set; its Pareto k values flag points where that estimate cannot be trusted
(Vehtari, Gelman & Gabry 2017, arXiv:1507.04544).

    python examples/mcmc_logistic.py                       # 4 chains x (500 warm-up + 1000 draws)
    python examples/mcmc_logistic.py --prior-scale 0.5 --chains 8

Prints the test accuracy and NLL, R-hat/ESS/divergences and elpd_loo; writes ``forest.png``, ``energy.png`` and
``calibration.png`` (predicted probability against the observed frequency of the test labels).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pyro  # noqa: E402
import pyro.distributions as dist  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402

from bayesdl.diagnostics import describe_mcmc, to_inference_data  # noqa: E402
from bayesdl.diagnostics.arviz_export import arviz_loo  # noqa: E402
from bayesdl.diagnostics.arviz_plots import plot_energy, plot_forest  # noqa: E402
from bayesdl.inference import sample_posterior  # noqa: E402


def breast_cancer(seed: int, test_fraction: float = 0.25) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test) in float64, features standardised with the training statistics."""
    x, y = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))
    test, train = order[: round(test_fraction * len(y))], order[round(test_fraction * len(y)) :]
    mean, sd = x[train].mean(0), x[train].std(0)
    return tuple(
        torch.as_tensor(a, dtype=torch.float64)
        for a in ((x[train] - mean) / sd, y[train], (x[test] - mean) / sd, y[test])
    )


def logistic_regression(x: torch.Tensor, y: torch.Tensor | None = None, prior_scale: float = 1.0) -> None:
    w = pyro.sample("w", dist.Normal(x.new_zeros(x.shape[1]), prior_scale).to_event(1))
    b = pyro.sample("b", dist.Normal(x.new_zeros(()), 5.0))
    with pyro.plate("data", len(x)):
        pyro.sample("y", dist.Bernoulli(logits=x @ w + b), obs=y)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("mcmc_logistic", __doc__)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--draws", type=int, default=1000, help="kept draws per chain")
    parser.add_argument(
        "--prior-scale", type=float, default=1.0, help="sd s of the Normal prior on the weights"
    )
    args = parse_args(parser, argv, smoke={"chains": 2, "warmup": 30, "draws": 30})

    x_train, y_train, x_test, y_test = (t.to(args.device) for t in breast_cancer(args.seed))
    posterior = sample_posterior(
        logistic_regression,
        x_train,
        y_train,
        prior_scale=args.prior_scale,
        num_chains=args.chains,
        num_warmup=args.warmup,
        num_samples=args.draws,
        seed=args.seed,
    )
    idata = to_inference_data(posterior)
    check = describe_mcmc(idata)
    print(check.text)

    w = posterior.samples["w"].reshape(-1, x_train.shape[1])  # all chains' draws, [S, 30]
    b = posterior.samples["b"].reshape(-1)
    with torch.no_grad():
        p_test = torch.sigmoid(x_test @ w.T + b).mean(1)  # posterior predictive P(y = 1 | x, D)
    accuracy = float(((p_test > 0.5).double() == y_test).double().mean())
    test_nll = float(-(y_test * p_test.log() + (1 - y_test) * (-p_test).log1p()).mean())
    loo = arviz_loo(idata)
    bad_k = int((np.nan_to_num(loo.pareto_k.values) > 0.7).sum())
    print(
        f"test accuracy {accuracy:.3f}, test NLL {test_nll:.3f} nats; elpd_loo {float(loo.elpd_loo):.1f} "
        f"(se {float(loo.se):.1f}), {bad_k} of {len(y_train)} points with Pareto k > 0.7"
        + (" (so that LOO estimate is unreliable)" if bad_k else "")
    )

    save_figure(plot_forest(idata, var_names=["w"]), args, "forest")
    save_figure(plot_energy(idata), args, "energy")
    edges = torch.linspace(0, 1, 11, dtype=torch.float64)
    which = torch.bucketize(p_test.cpu(), edges[1:-1])
    observed = [
        float(y_test.cpu()[which == k].mean()) if (which == k).any() else float("nan") for k in range(10)
    ]
    counts = [int((which == k).sum()) for k in range(10)]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    centres = (edges[:-1] + edges[1:]) / 2
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    ax.plot(centres, observed, marker="o", label="observed frequency")
    for centre, freq, count in zip(centres, observed, counts):
        if count:
            ax.annotate(
                str(count),
                (float(centre), freq),
                textcoords="offset points",
                xytext=(0, 6),
                fontsize=7,
                ha="center",
            )
    ax.set(
        xlabel="posterior predictive P(y = 1, benign)",
        ylabel="share of benign cases in the bin",
        title="test-set calibration (numbers: points per bin)",
    )
    ax.legend(fontsize=8)
    save_figure(fig, args, "calibration")
    return {
        "test_accuracy": accuracy,
        "test_nll": test_nll,
        "elpd_loo": float(loo.elpd_loo),
        "max_rhat": check.max_rhat,
        "divergences": check.divergences,
    }


if __name__ == "__main__":
    main()
