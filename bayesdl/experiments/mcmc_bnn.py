"""``mcmc-bnn``: NUTS over all weights of the shared Pyro BNN on the 1-D 'gap' toy regression, compared with
Bayes by Backprop and MC dropout from the BNN area on the same data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import regression_truth, toy_regression
from ..diagnostics.arviz_export import rhat_of_draws, to_inference_data
from ..diagnostics.mcmc_summary import describe_mcmc
from ..diagnostics.metrics import gaussian_nll, interval_coverage
from ..diagnostics.uncertainty_plots import regression_bands
from ..inference.mcmc import sample_posterior
from ..inference.predictive import RegressionPrediction, predict
from ..models.nets import MLP
from ..models.pyro_bnn import PyroPosterior, to_pyro_model
from .bnn_methods import LABELS, train_method
from .registry import RunContext, experiment
from .scoring import gaussian_scores, report_regression
from .settings import NutsSettings, RunSize

COMPARED = ("bbb", "mc_dropout")


@dataclass(frozen=True)
class McmcBnnSettings(NutsSettings):
    """Settings of ``mcmc-bnn`` (``--set hidden=20 --set draws=1000 --set max_tree_depth=8``).

    Attributes:
        n_train: training points of the gap data.
        hidden: hidden tanh units of the BNN that NUTS samples (1-hidden-1).
        max_tree_depth: NUTS's largest tree depth.
        epochs: training epochs of Bayes by Backprop and MC dropout.
        compared_hidden: hidden units of their tanh MLP (1-hidden-1).
        lr: their Adam learning rate.
        batch_size: their minibatch size.
        predictive_samples: Monte Carlo samples of their predictives.
        grid_points: inputs of the band figures on [-4.5, 4.5].
    """

    n_train: int = 200
    hidden: int = 20
    max_tree_depth: int = 7
    epochs: int = 1500
    compared_hidden: int = 50
    lr: float = 1e-2
    batch_size: int = 20
    predictive_samples: int = 200
    grid_points: int = 200

    @classmethod
    def preset(cls, size: RunSize) -> McmcBnnSettings:
        """The settings of a smoke, quick or full run."""
        if size == "smoke":
            return cls(
                chains=2,
                warmup=25,
                draws=25,
                n_train=40,
                hidden=5,
                max_tree_depth=5,
                epochs=5,
                batch_size=40,
                predictive_samples=20,
                grid_points=100,
            )
        if size == "quick":
            return cls(chains=4, warmup=100, draws=100, n_train=80, hidden=10, max_tree_depth=6, epochs=500)
        return cls(chains=4, warmup=500, draws=500)


def _scores(pred: RegressionPrediction, y: torch.Tensor) -> dict[str, float]:
    """Test NLL (moment-matched Gaussian), RMSE and 95% coverage of one predictive."""
    mean, variance = pred.mean.detach().cpu().float(), pred.variance.detach().cpu().float()
    lower, upper = (t.detach().cpu().float() for t in pred.interval(0.95))
    return {
        "test_nll": gaussian_nll(mean, variance, y),
        "test_nll_se": gaussian_scores(mean, variance, y)["nll_se"],
        "rmse": float((mean - y).square().mean().sqrt()),
        "coverage_95": interval_coverage(lower, upper, y),
    }


@experiment(
    "mcmc-bnn",
    "NUTS over the weights of the shared Pyro BNN on the 'gap' toy regression, vs Bayes by Backprop and MC dropout",
    config=McmcBnnSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: McmcBnnSettings = ctx.config
    n, hidden, chains, warmup, draws, depth = (
        cfg.n_train,
        cfg.hidden,
        cfg.chains,
        cfg.warmup,
        cfg.draws,
        cfg.max_tree_depth,
    )
    epochs, samples, batch = cfg.epochs, cfg.predictive_samples, cfg.batch_size
    x, y, _ = toy_regression("gap", n, seed=ctx.seed)
    x_test, y_test, _ = toy_regression("gap", 500, seed=ctx.seed + 1)
    grid = torch.linspace(-4.5, 4.5, cfg.grid_points).unsqueeze(1)
    in_gap = grid.squeeze(1).abs() < 1.0
    near_data = (grid.squeeze(1).abs() > 1.2) & (grid.squeeze(1).abs() < 2.8)

    # HMC: the shared Pyro BNN (tanh MLP, N(0, 1) weight priors, HalfNormal(1) noise sd), float64, full batch.
    model = to_pyro_model(MLP(1, [hidden], 1, activation="tanh"), prior_scale=1.0, likelihood="homoscedastic")
    model = model.double().to(ctx.device)
    post = sample_posterior(
        model,
        x.double().to(ctx.device),
        y.double().to(ctx.device),
        num_chains=chains,
        num_warmup=warmup,
        num_samples=draws,
        seed=ctx.seed,
        progress=ctx.progress,
        max_tree_depth=depth,
    )
    check = describe_mcmc(to_inference_data(post))
    hmc = PyroPosterior(model, samples=post.flat_samples())
    num_hmc = chains * draws

    predictors: dict[str, tuple[Any, torch.dtype, int]] = {"hmc": (hmc, torch.float64, num_hmc)}
    for method in COMPARED:
        net = train_method(
            method,
            lambda p: MLP(1, [cfg.compared_hidden], 1, activation="tanh", dropout=p),
            "homoscedastic",
            (x, y),
            epochs,
            batch,
            cfg.lr,
            ctx,
            dropout=0.1,
        )
        predictors[method] = (net, torch.float32, samples)

    labels = {"hmc": "HMC (NUTS)", **LABELS}
    metrics: dict[str, Any] = {}
    fig, axes = plt.subplots(
        1, len(predictors), figsize=(4.2 * len(predictors), 4.0), sharey=True, layout="constrained"
    )
    epi_fig, epi_ax = plt.subplots(figsize=(6, 3.2))
    for ax, (name, (predictor, dtype, num)) in zip(axes, predictors.items()):
        test = predict(predictor, x_test.to(ctx.device, dtype), num)
        on_grid = predict(predictor, grid.to(ctx.device, dtype), num)
        epi_sd = on_grid.epistemic.detach().cpu().float().sqrt()
        metrics[name] = {
            **_scores(test, y_test),
            "epistemic_sd_in_gap": float(epi_sd[in_gap].mean()),
            "epistemic_sd_near_data": float(epi_sd[near_data].mean()),
        }
        report_regression(ctx, metrics[name], labels[name])
        ctx.report_metric(
            "epistemic sd in the gap",
            metrics[name]["epistemic_sd_in_gap"],
            "",
            "none",
            method=labels[name],
            headline=False,
        )
        regression_bands(grid, on_grid, x, y, regression_truth(grid), ax=ax, title=labels[name], legend=False)
        epi_ax.plot(grid.squeeze(1), epi_sd, label=labels[name])
    axes[0].set_ylim(-4, 4)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8)
    epi_ax.axvspan(-1, 1, color="grey", alpha=0.15)
    epi_ax.set_xlabel("x")
    epi_ax.set_title("epistemic sd; shaded: the gap")
    epi_ax.legend(fontsize=7)
    ctx.save_figure(
        fig,
        "predictive_bands",
        "Gap data: predictive mean with aleatoric (blue) and total (orange) +-2 sd bands "
        f"for HMC over the {post.unconstrained.shape[-1]} parameters of the Pyro BNN, Bayes by Backprop and MC dropout",
    )
    ctx.save_figure(epi_fig, "epistemic_sd", "Epistemic standard deviation along x for the three methods")
    ctx.note(check.text.replace("\n", " "))
    ctx.note(
        "BNN posteriors are multimodal (hidden-unit permutations and sign flips), so R-hat across chains is expected "
        "to be large for weights; the predictive function is what is compared. Test NLL and 95% intervals use the "
        "moment-matched Gaussian of each predictive (mean, epistemic + aleatoric variance). HMC uses a tanh MLP "
        f"1-{hidden}-1; Bayes by Backprop and MC dropout use the BNN area's training (shared trainer) on a tanh MLP 1-{cfg.compared_hidden}-1, "
        "all with a homoscedastic Gaussian likelihood."
    )
    # R-hat of the predictive mean at the grid inputs: invariant to the weight symmetries, so it shows whether
    # the chains agree on the function (the draws come back chain-major, as flat_samples orders them).
    with torch.no_grad():
        f_draws = hmc.predictive_samples(grid.to(ctx.device, torch.float64), num_hmc).means.reshape(
            chains, draws, -1
        )
    function_rhat = rhat_of_draws(f_draws)
    ctx.note(
        f"Function-space R-hat (the predictive mean at {grid.shape[0]} grid inputs, across the {chains} chains): "
        f"max {float(function_rhat.max()):.3f}, median {float(function_rhat.median()):.3f}; "
        f"in the gap max {float(function_rhat[in_gap].max()):.3f}. Values near 1 mean the chains found the same "
        "function even where the weights disagree."
    )
    metrics["hmc_diagnostics"] = {
        "divergences": check.divergences,
        "max_rhat_weights": check.max_rhat,
        "max_rhat_function": float(function_rhat.max()),
        "median_rhat_function": float(function_rhat.median()),
        "mean_tree_depth": float(post.sample_stats["tree_depth"].double().mean()),
        "noise_sd_posterior_mean": float(post.samples["noise_std"].mean()),
        "num_parameters": int(post.unconstrained.shape[-1]),
        "seconds": post.warmup_seconds + post.sampling_seconds,
    }
    ctx.report_metric("NUTS divergences", check.divergences, "", "lower", headline=False)
    ctx.report_metric("max function-space R-hat", float(function_rhat.max()), "", "lower")
    metrics["settings"] = {
        "n_train": n,
        "hmc_hidden": hidden,
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "max_tree_depth": depth,
        "epochs": epochs,
        "batch_size": batch,
        "predictive_samples": samples,
    }
    return metrics
