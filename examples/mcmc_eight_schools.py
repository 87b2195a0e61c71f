"""The eight schools hierarchical model by NUTS, in its non-centred and centred forms.

    y_j ~ N(theta_j, sigma_j)   (sigma_j known),   theta_j ~ N(mu, tau),   mu ~ N(0, 5),   tau ~ HalfCauchy(5)

The centred form samples theta_j directly; its posterior has a funnel between tau and theta that step-size-adapted
HMC cannot follow, which shows up as divergent transitions. The non-centred form samples theta~_j ~ N(0, 1) and
sets theta_j = mu + tau theta~_j (Betancourt & Girolami 2013, arXiv:1312.0906). ``sample_posterior`` runs all
chains of bayesdl's NUTS together as one batched computation; ArviZ reports R-hat, ESS and BFMI.

    python examples/mcmc_eight_schools.py                   # 4 chains x (1000 warm-up + 2000 draws)
    python examples/mcmc_eight_schools.py --chains 8 --draws 500

Prints the ArviZ summary of mu and tau (reference posterior: mu 4.4 (sd 3.3), tau 3.6 (sd 3.2)) and the
divergences of both forms; writes ``trace_rank.png``, ``forest.png``, ``energy.png`` and ``centred_funnel.png``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import pyro  # noqa: E402
import pyro.distributions as dist  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402

from bayesdl.diagnostics import arviz_summary, describe_mcmc, to_inference_data  # noqa: E402
from bayesdl.diagnostics.arviz_plots import plot_energy, plot_forest, plot_pair_divergences, plot_trace  # noqa: E402
from bayesdl.inference import sample_posterior  # noqa: E402

Y = torch.tensor([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0], dtype=torch.float64)  # effects (SAT points)
SIGMA = torch.tensor(
    [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0], dtype=torch.float64
)  # their standard errors


def non_centred(y: torch.Tensor, sigma: torch.Tensor) -> None:
    mu = pyro.sample("mu", dist.Normal(sigma.new_zeros(()), 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(sigma.new_tensor(5.0)))
    with pyro.plate("school", len(sigma)):
        theta_tilde = pyro.sample("theta_tilde", dist.Normal(sigma.new_zeros(()), 1.0))
        theta = pyro.deterministic("theta", mu + tau * theta_tilde)
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)


def centred(y: torch.Tensor, sigma: torch.Tensor) -> None:
    mu = pyro.sample("mu", dist.Normal(sigma.new_zeros(()), 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(sigma.new_tensor(5.0)))
    with pyro.plate("school", len(sigma)):
        theta = pyro.sample("theta", dist.Normal(mu, tau))
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("mcmc_eight_schools", __doc__)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=2000, help="kept draws per chain")
    parser.add_argument("--max-tree-depth", type=int, default=10)
    args = parse_args(parser, argv, smoke={"chains": 2, "warmup": 40, "draws": 40, "max_tree_depth": 5})

    y, sigma = Y.to(args.device), SIGMA.to(args.device)
    settings = dict(
        num_chains=args.chains,
        num_warmup=args.warmup,
        num_samples=args.draws,
        seed=args.seed,
        max_tree_depth=args.max_tree_depth,
    )
    posterior = sample_posterior(non_centred, y, sigma, **settings)
    idata = to_inference_data(posterior)
    print(arviz_summary(idata, var_names=["mu", "tau"]).to_string())
    check = describe_mcmc(idata)
    print("non-centred:", check.text)
    save_figure(plot_trace(idata, var_names=["mu", "tau"]), args, "trace_rank")
    save_figure(plot_forest(idata, var_names=["mu", "tau", "theta"]), args, "forest")
    save_figure(plot_energy(idata), args, "energy")

    funnel = to_inference_data(sample_posterior(centred, y, sigma, **settings))
    funnel_check = describe_mcmc(funnel)
    print("centred:", funnel_check.text)
    save_figure(plot_pair_divergences(funnel, var_names=["mu", "tau"]), args, "centred_funnel")
    mu, tau = (posterior.samples[name].reshape(-1) for name in ("mu", "tau"))
    return {
        "mu_mean": float(mu.mean()),
        "tau_mean": float(tau.mean()),
        "max_rhat": check.max_rhat,
        "divergences": check.divergences,
        "centred_divergences": funnel_check.divergences,
    }


if __name__ == "__main__":
    main()
