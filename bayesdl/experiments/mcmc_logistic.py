"""``mcmc-logistic``: Bayesian logistic regression on the breast-cancer data by batched-chain NUTS."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyro
import pyro.distributions as dist
import torch

from ..diagnostics.arviz_export import arviz_loo, arviz_summary, to_inference_data
from ..diagnostics.arviz_plots import plot_energy, plot_forest, plot_separation
from ..diagnostics.mcmc_summary import describe_mcmc
from ..diagnostics.uncertainty_plots import binary_calibration
from ..inference.mcmc import sample_posterior
from .registry import RunContext, experiment
from .scoring import classification_scores
from .settings import NutsSettings, RunSize


class McmcLogisticSettings(NutsSettings):
    """Settings of ``mcmc-logistic``: NUTS chains, warm-up and draws (``--set draws=2000 --set chains=8``)."""

    @classmethod
    def preset(cls, size: RunSize) -> McmcLogisticSettings:
        """The settings of a smoke, quick or full run."""
        return {"smoke": cls(2, 30, 30), "quick": cls(4, 300, 300), "full": cls(4, 500, 1000)}[size]


def load_breast_cancer_standardized(
    seed: int = 0, test_fraction: float = 0.25, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, ...]:
    """scikit-learn's breast-cancer data (569 x 30), split, and standardised with the training mean and sd.

    Returns:
        ``(x_train, y_train, x_test, y_test)``; labels are 0/1 floats. ``test_fraction=0`` keeps all rows in train.
    """
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    idx = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = idx[:n_test], idx[n_test:]
    mean, sd = x[train].mean(0), x[train].std(0)
    as_t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    return as_t((x[train] - mean) / sd), as_t(y[train]), as_t((x[test] - mean) / sd), as_t(y[test])


def logistic_model(x: torch.Tensor, y: torch.Tensor | None = None, prior_scale: float = 1.0) -> torch.Tensor:
    """Bayesian logistic regression: w ~ N(0, s^2 I), b ~ N(0, 5^2), y_i ~ Bernoulli(sigmoid(x_i w + b)).

    Returns the logits [N]; ``y=None`` samples the labels.

    Example:
        >>> tuple(logistic_model(torch.zeros(3, 2)).shape)
        (3,)
    """
    zero = x.new_zeros(())
    w = pyro.sample("w", dist.Normal(zero, prior_scale).expand([x.shape[1]]).to_event(1))
    b = pyro.sample("b", dist.Normal(zero, 5.0))
    logits = x @ w + b
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Bernoulli(logits=logits), obs=y)
    return logits


@experiment(
    "mcmc-logistic",
    "Bayesian logistic regression on breast cancer by batched NUTS: accuracy, PPC, LOO",
    config=McmcLogisticSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    x_train, y_train, x_test, y_test = (t.to(ctx.device) for t in load_breast_cancer_standardized(ctx.seed))
    cfg: McmcLogisticSettings = ctx.config
    chains, warmup, draws = cfg.chains, cfg.warmup, cfg.draws
    post = sample_posterior(
        logistic_model,
        x_train,
        y_train,
        num_chains=chains,
        num_warmup=warmup,
        num_samples=draws,
        seed=ctx.seed,
        progress=ctx.progress,
    )
    idata = to_inference_data(post, posterior_predictive=True)
    check = describe_mcmc(idata)
    loo = arviz_loo(idata)
    w = post.samples["w"].reshape(-1, x_train.shape[1])
    b = post.samples["b"].reshape(-1)
    with torch.no_grad():
        p_test = torch.sigmoid(x_test @ w.T + b).mean(1)
        p_train = torch.sigmoid(x_train @ w.T + b).mean(1)
    accuracy = float(((p_test > 0.5).to(y_test.dtype) == y_test).double().mean())
    nll = float(-(y_test * p_test.log() + (1 - y_test) * (1 - p_test).log()).mean())
    # posterior predictive check: the share of positive labels in replicated training sets
    rep = idata.posterior_predictive["y"].values.reshape(-1, x_train.shape[0])
    observed_share = float(y_train.mean())
    ppc_p_value = float((rep.mean(1) >= observed_share).mean())

    (ctx.out_dir / "summary.txt").write_text(
        arviz_summary(idata).to_string() + "\n\n" + check.text + "\n\n" + str(loo) + "\n"
    )
    ctx.save_figure(plot_forest(idata, var_names=["w"]), "forest", "94% HDIs of the 30 weights per chain")
    ctx.save_figure(plot_energy(idata), "energy", "Energy distribution and transitions (BFMI)")
    # 0/1 labels: a density PPC and a LOO-PIT are coarse there, so show the separation plot of the training labels
    # and the calibration of the held-out predictions instead
    ctx.save_figure(
        plot_separation(idata, y="y"),
        "separation",
        "Separation plot of the training labels: one bar per patient sorted by posterior predictive P(y = 1), "
        "dark = y = 1; the black line is the sorted probability and the triangle the expected number of 1s",
    )
    ctx.save_figure(
        binary_calibration(p_test.cpu(), y_test.cpu(), n_bins=10, title="held-out calibration"),
        "calibration",
        "Calibration on the held-out 25%: observed frequency of y = 1 against the posterior predictive "
        "probability, in 10 equal-width bins, with +-2 standard errors and the count of each bin",
    )
    ctx.note(check.text.replace("\n", " "))
    ctx.note(
        "Test accuracy and NLL use the posterior predictive probability averaged over all draws. "
        "elpd_loo is the PSIS-LOO estimate of the expected log predictive density of the training set (nats)."
    )
    num_bad_k = int((np.nan_to_num(loo.pareto_k.values, nan=0.0) > 0.7).sum())
    if num_bad_k:
        ctx.note(
            f"{num_bad_k} of {x_train.shape[0]} training points have a Pareto k above 0.7, so PSIS-LOO is not reliable "
            "for them and elpd_loo is optimistic in an unknown amount (Vehtari, Gelman & Gabry 2017, arXiv:1507.04544). "
            "The classes are nearly separable, which gives single points high influence on the posterior; exact "
            "refits for those points or K-fold cross-validation would give a trustworthy elpd."
        )
    scores = classification_scores(torch.stack([1 - p_test, p_test], 1).cpu(), y_test.long().cpu())
    ctx.report_metric("test accuracy", scores["accuracy"], "%", "higher", se=scores["accuracy_se"])
    ctx.report_metric("test NLL", scores["nll"], "nats/example", "lower", se=scores["nll_se"])
    ctx.report_metric(
        "elpd_loo (PSIS-LOO, training set)",
        float(loo.elpd_loo),
        "nats",
        "higher",
        se=float(loo.se),
        headline=False,
    )
    ctx.report_metric("max R-hat", check.max_rhat, "", "lower")
    ctx.report_metric("divergences", check.divergences, "transitions", "lower", headline=False)
    return {
        "test_accuracy": accuracy,
        "test_nll": nll,
        "train_accuracy": float(((p_train > 0.5).to(y_train.dtype) == y_train).double().mean()),
        "elpd_loo": float(loo.elpd_loo),
        "elpd_loo_se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "num_pareto_k_above_0_7": num_bad_k,
        "ppc_share_positive_observed": observed_share,
        "ppc_share_positive_p_value": ppc_p_value,
        "max_rhat": check.max_rhat,
        "min_ess_bulk": check.min_ess_bulk,
        "divergences": check.divergences,
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "seconds": post.warmup_seconds + post.sampling_seconds,
    }
