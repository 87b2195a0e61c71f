"""ArviZ round trip of MCMC and SVI results, the diagnostic plots, and the plain-words summary."""

import arviz as az
import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch

from bayesdl.diagnostics import arviz_summary, describe_mcmc, to_inference_data
from bayesdl.diagnostics.arviz_plots import (
    plot_energy,
    plot_forest,
    plot_loo_pit,
    plot_pair_divergences,
    plot_ppc,
    plot_trace,
)
from bayesdl.errors import InputError
from bayesdl.inference import guide_posterior
from bayesdl.inference.mcmc import sample_posterior


def logistic(x, y=None):
    w = pyro.sample("w", dist.Normal(x.new_zeros(()), 1.0).expand([x.shape[1]]).to_event(1))
    logits = x @ w
    pyro.deterministic("mean_logit", logits.mean())
    with pyro.plate("data", x.shape[0]):
        return pyro.sample("y", dist.Bernoulli(logits=logits), obs=y)


@pytest.fixture(scope="module")
def fitted():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g, dtype=torch.float64)
    y = torch.bernoulli(torch.sigmoid(x @ torch.tensor([1.5, -1.0], dtype=torch.float64)), generator=g)
    post = sample_posterior(
        logistic, x, y, num_chains=2, num_warmup=100, num_samples=100, seed=0, progress=False
    )
    return x, y, post


def test_round_trip_summary_loo_and_groups(fitted):
    x, y, post = fitted
    assert post.samples["mean_logit"].shape == (2, 100)  # deterministic site included
    idata = to_inference_data(post, posterior_predictive=True)
    assert {"posterior", "sample_stats", "observed_data", "log_likelihood", "posterior_predictive"} <= set(
        idata.groups()
    )
    for name in (
        "diverging",
        "energy",
        "tree_depth",
        "step_size",
        "acceptance_rate",
        "reached_max_treedepth",
        "n_steps",
    ):
        assert name in idata.sample_stats
    table = az.summary(idata)
    assert {"mean", "sd", "ess_bulk", "ess_tail", "r_hat"} <= set(table.columns)
    assert len(table) == 3
    assert np.isfinite(arviz_summary(post)["r_hat"]).all()
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo) and loo.elpd_loo < 0
    np.testing.assert_array_equal(idata.observed_data["y"].values, y.numpy())
    # replicated labels are binary and shaped [chain, draw, N]
    rep = idata.posterior_predictive["y"].values
    assert rep.shape == (2, 100, 40) and set(np.unique(rep)) <= {0.0, 1.0}
    pred = post.predictive(logistic, x)
    assert pred["y"].shape == (2, 100, 40)


def test_plot_helpers_write_files(fitted, tmp_path):
    _, _, post = fitted
    idata = to_inference_data(post, posterior_predictive=True)
    plot_trace(idata, var_names=["w"], path=tmp_path / "trace.png")
    plot_forest(idata, path=tmp_path / "forest.png")
    plot_energy(idata, path=tmp_path / "energy.png")
    plot_pair_divergences(idata, var_names=["w"], path=tmp_path / "pair.png")
    plot_ppc(idata, path=tmp_path / "ppc.png")
    plot_loo_pit(idata, y="y", path=tmp_path / "loo_pit.png")
    for name in ("trace", "forest", "energy", "pair", "ppc", "loo_pit"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    with pytest.raises(InputError, match="posterior_predictive"):
        plot_ppc(to_inference_data(post))


def test_describe_mcmc_flags_problems_in_plain_words(fitted):
    _, _, post = fitted
    check = describe_mcmc(to_inference_data(post))
    assert check.max_rhat < 1.05 and check.divergences == 0
    # two chains stuck in different places: R-hat and ESS must be flagged
    bad = to_inference_data(post)
    bad.posterior["w"].values[1] += 5.0
    check_bad = describe_mcmc(bad)
    assert not check_bad.ok
    assert "R-hat" in check_bad.text and "chains disagree" in check_bad.text


def test_guide_draws_become_one_chain():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(20, 2, generator=g)
    y = torch.bernoulli(torch.full((20,), 0.5), generator=g)
    guide = pyro.infer.autoguide.AutoNormal(logistic)
    idata = to_inference_data(guide_posterior(logistic, guide, x, y, num_samples=50, seed=0))
    assert idata.posterior["w"].shape == (1, 50, 2)
    assert idata.log_likelihood["y"].shape == (1, 50, 20)
    assert np.isfinite(az.loo(idata).elpd_loo)
