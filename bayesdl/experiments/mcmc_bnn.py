"""``mcmc-bnn``: NUTS (adaptive HMC) over all weights of a one-hidden-layer Bayesian network on 1-D toy regression."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pyro  # noqa: E402
import pyro.distributions as dist  # noqa: E402
import torch  # noqa: E402

from ..data import toy_regression  # noqa: E402
from ..data.toy import regression_truth  # noqa: E402
from ..diagnostics.mcmc_summary import describe_mcmc  # noqa: E402
from ..inference.mcmc import sample_posterior  # noqa: E402
from .registry import RunContext, experiment  # noqa: E402


def bnn_regression_model(x: torch.Tensor, y: torch.Tensor | None = None, hidden: int = 20) -> torch.Tensor:
    """One-hidden-layer tanh network with N(0, 1) priors (output layer scaled by 1/sqrt(H)) and a learnt noise sd.

    f(x) = tanh(x W1 + b1) W2 + b2;  y ~ N(f(x), sigma^2);  sigma ~ HalfNormal(0.5). Returns f(x) [N].
    This stand-in lives here until the models package's BNNs are connected to MCMC.

    Example:
        >>> tuple(bnn_regression_model(torch.zeros(4, 1), hidden=3).shape)
        (4,)

    References:
        Neal (1996), Bayesian Learning for Neural Networks (HMC over network weights).
    """
    zero = x.new_zeros(())
    w1 = pyro.sample("w1", dist.Normal(zero, 1.0).expand([x.shape[1], hidden]).to_event(2))
    b1 = pyro.sample("b1", dist.Normal(zero, 1.0).expand([hidden]).to_event(1))
    w2 = pyro.sample("w2", dist.Normal(zero, hidden ** -0.5).expand([hidden]).to_event(1))
    b2 = pyro.sample("b2", dist.Normal(zero, 1.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(zero + 0.5))
    f = torch.tanh(x @ w1 + b1) @ w2 + b2
    pyro.deterministic("f", f)
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(f, sigma), obs=y)
    return f


def _network(x: torch.Tensor, s: dict[str, torch.Tensor]) -> torch.Tensor:
    """f(x) for S stacked weight draws: [S, N]."""
    hidden = torch.tanh(x.unsqueeze(0) @ s["w1"] + s["b1"].unsqueeze(1))
    return (hidden @ s["w2"].unsqueeze(-1)).squeeze(-1) + s["b2"].unsqueeze(-1)


@experiment("mcmc-bnn", "NUTS over the weights of a one-hidden-layer BNN on the 1-D 'gap' toy regression (full batch)")
def run(ctx: RunContext) -> dict[str, Any]:
    n, hidden = (40, 8) if ctx.smoke else (80, 10) if ctx.quick else (200, 20)
    x, y, _ = toy_regression("gap", n, seed=ctx.seed)
    x, y = x.double().to(ctx.device), y.double().to(ctx.device)
    chains = 2 if ctx.smoke else 4
    warmup, draws = (40, 40) if ctx.smoke else (200, 200) if ctx.quick else (1000, 1000)
    post = sample_posterior(bnn_regression_model, x, y, hidden=hidden, num_chains=chains, num_warmup=warmup,
                            num_samples=draws, seed=ctx.seed, progress=ctx.progress,
                            max_tree_depth=6 if ctx.smoke else 7 if ctx.quick else 8)
    check = describe_mcmc(post.to_arviz())

    grid = torch.linspace(-4.5, 4.5, 200, dtype=x.dtype, device=x.device).unsqueeze(1)
    flat = post.flat_samples(["w1", "b1", "w2", "b2", "sigma"])
    with torch.no_grad():
        f = _network(grid, flat)
        sigma = flat["sigma"].unsqueeze(-1)
    mean, epistemic_sd = f.mean(0), f.std(0)
    total_sd = (epistemic_sd ** 2 + (sigma ** 2).mean(0)).sqrt()
    x_test, y_test, _ = toy_regression("gap", 500, seed=ctx.seed + 1)
    x_test, y_test = x_test.double().to(x.device), y_test.double().to(x.device)
    with torch.no_grad():
        f_test = _network(x_test, flat)
        log_p = torch.distributions.Normal(f_test, sigma).log_prob(y_test).logsumexp(0) - torch.log(
            torch.tensor(float(f_test.shape[0]), dtype=x.dtype))
    rmse = float((f_test.mean(0) - y_test).pow(2).mean().sqrt())
    in_gap = grid.squeeze(1).abs() < 1.0
    in_data = (grid.squeeze(1).abs() > 1.2) & (grid.squeeze(1).abs() < 2.8)

    g, m = grid.squeeze(1).cpu(), mean.cpu()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.fill_between(g, m - 2 * total_sd.cpu(), m + 2 * total_sd.cpu(), alpha=0.2, label="±2 sd predictive")
    ax.fill_between(g, m - 2 * epistemic_sd.cpu(), m + 2 * epistemic_sd.cpu(), alpha=0.4, label="±2 sd of f (epistemic)")
    ax.plot(g, m, label="posterior mean")
    ax.plot(g, regression_truth(g), "k--", lw=1, label="truth")
    ax.scatter(x.squeeze(1).cpu(), y.cpu(), s=6, c="k")
    ax.set_ylim(-4, 4)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(f"NUTS over {post.unconstrained.shape[-1]} BNN parameters, {chains} chains x {draws} draws")
    ctx.save_figure(fig, "predictive_bands", "Posterior predictive mean and bands of the HMC BNN on the 'gap' data")
    ctx.note(check.text.replace("\n", " "))
    ctx.note("BNN posteriors are multimodal (hidden-unit permutations and sign flips), so R-hat across chains "
             "is expected to be large for weights; the predictive function f is what matters here. "
             "Comparison with Bayes-by-Backprop and MC-dropout bands: not yet connected (BNN models live in another branch).")
    return {
        "test_rmse": rmse, "test_log_pred_density": float(log_p.mean()),
        "epistemic_sd_in_gap": float(epistemic_sd[in_gap].mean()),
        "epistemic_sd_near_data": float(epistemic_sd[in_data].mean()),
        "noise_sd_posterior_mean": float(flat["sigma"].mean()),
        "divergences": check.divergences, "max_rhat_weights": check.max_rhat,
        "mean_tree_depth": float(post.sample_stats["tree_depth"].double().mean()),
        "num_parameters": int(post.unconstrained.shape[-1]), "chains": chains, "warmup": warmup, "draws": draws,
        "seconds": post.warmup_seconds + post.sampling_seconds,
    }
