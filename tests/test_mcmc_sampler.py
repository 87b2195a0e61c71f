"""Correctness of the batched NUTS/HMC sampler against closed forms, plus seeding, funnels and bad input."""

import math

import arviz as az
import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.inference.mcmc import sample_posterior, warmup_windows
from bayesdl.models.eight_schools import eight_schools_centered, eight_schools_data


def _ess(draws: torch.Tensor) -> np.ndarray:
    """Bulk ESS per coordinate of draws [chain, draw, K]."""
    return np.array([float(az.ess(draws[..., k].numpy())) for k in range(draws.shape[-1])])


def linear_model(x, y, sigma):
    beta = pyro.sample("beta", dist.Normal(x.new_zeros(()), 1.0).expand([x.shape[1]]).to_event(1))
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(x @ beta, sigma), obs=y)


def test_conjugate_linear_regression_matches_closed_form():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(30, 3, generator=g, dtype=torch.float64)
    sigma = 0.5
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + sigma * torch.randn(30, generator=g, dtype=torch.float64)
    precision = x.T @ x / sigma**2 + torch.eye(3, dtype=torch.float64)
    cov = torch.linalg.inv(precision)
    mean = cov @ x.T @ y / sigma**2
    post = sample_posterior(linear_model, x, y, sigma, num_chains=4, num_warmup=300, num_samples=400, seed=0, progress=False)
    draws = post.samples["beta"]
    ess = _ess(draws)
    assert ess.min() > 300
    flat = draws.reshape(-1, 3)
    sd = cov.diagonal().sqrt()
    # posterior mean within 4 Monte Carlo standard errors
    assert ((flat.mean(0) - mean).abs() <= 4 * sd / torch.as_tensor(ess).sqrt()).all()
    # posterior variances: relative MC error of a variance estimate is about sqrt(2 / ESS)
    emp_cov = torch.cov(flat.T)
    rel = (emp_cov.diagonal() / cov.diagonal() - 1).abs()
    assert (rel <= 4 * torch.as_tensor(2.0 / ess).sqrt()).all()
    # correlations: MC error about (1 - rho^2) / sqrt(ESS)
    corr_true = cov / torch.outer(sd, sd)
    emp_sd = emp_cov.diagonal().sqrt()
    corr_emp = emp_cov / torch.outer(emp_sd, emp_sd)
    assert ((corr_emp - corr_true).abs() <= 5 * (1 - corr_true**2 + 1e-3) / math.sqrt(ess.min())).all()
    assert post.sample_stats["diverging"].sum() == 0
    assert post.log_likelihood["y"].shape == (4, 400, 30)


def constrained_model():
    pyro.sample("s", dist.HalfNormal(torch.tensor(2.0, dtype=torch.float64)))
    pyro.sample("l", dist.LogNormal(torch.tensor(0.5, dtype=torch.float64), 0.4))


def test_constrained_sites_have_correct_moments():
    post = sample_posterior(constrained_model, num_chains=4, num_warmup=300, num_samples=500, seed=3, progress=False)
    s, l_ = post.samples["s"], post.samples["l"]
    assert bool((s > 0).all()) and bool((l_ > 0).all())
    truth = {
        "s": (2.0 * math.sqrt(2 / math.pi), 4.0 * (1 - 2 / math.pi)),
        "l": (math.exp(0.5 + 0.08), (math.exp(0.16) - 1) * math.exp(1.0 + 0.16)),
    }
    for name, (m, v) in truth.items():
        x = post.samples[name]
        ess = float(az.ess(x.numpy()))
        assert abs(float(x.mean()) - m) < 4 * math.sqrt(v / ess), name
        assert abs(float(x.var()) / v - 1) < 5 * math.sqrt(2.0 / ess) + 0.1, name


def test_chains_are_reproducible_and_independent():
    kw = dict(num_chains=3, num_warmup=40, num_samples=30, progress=False)
    a = sample_posterior(constrained_model, seed=7, **kw)
    b = sample_posterior(constrained_model, seed=7, **kw)
    c = sample_posterior(constrained_model, seed=8, **kw)
    assert torch.equal(a.samples["s"], b.samples["s"])
    assert torch.equal(a.sample_stats["tree_depth"], b.sample_stats["tree_depth"])
    assert not torch.equal(a.samples["s"], c.samples["s"])
    first = a.unconstrained[:, 0]
    assert torch.cdist(first, first).add(torch.eye(3, dtype=first.dtype)).min() > 0  # distinct chains
    assert not torch.equal(a.samples["s"][0], a.samples["s"][1])


def test_centred_eight_schools_reports_divergences():
    y, sigma = eight_schools_data()
    post = sample_posterior(eight_schools_centered, y, sigma, num_chains=4, num_warmup=100, num_samples=100, seed=0,
                            max_tree_depth=5, progress=False)
    stats = post.sample_stats
    assert int(stats["diverging"].sum()) > 0
    assert set(stats) >= {"diverging", "energy", "tree_depth", "n_steps", "step_size", "acceptance_rate",
                          "reached_max_treedepth"}
    assert bool((stats["n_steps"] <= 2**5 - 1).all()) and bool((stats["tree_depth"] <= 5).all())


def test_potential_function_and_hmc_kernel_sample_a_gaussian():
    scales = torch.tensor([1.0, 3.0], dtype=torch.float64)
    potential = lambda z: 0.5 * ((z / scales) ** 2).sum(-1)  # noqa: E731
    for kernel in ("nuts", "hmc"):
        post = sample_posterior(potential, potential_dim=2, kernel=kernel, num_chains=4, num_warmup=200,
                                num_samples=300, seed=2, progress=False)
        z = post.samples["z"]
        ess = _ess(z)
        assert (ess > 100).all(), kernel
        assert ((z.reshape(-1, 2).mean(0) / scales).abs() < 4 / torch.as_tensor(ess).sqrt()).all(), kernel
        assert ((z.reshape(-1, 2).std(0) / scales - 1).abs() < 0.25).all(), kernel


def no_latent_model(y):
    pyro.sample("y", dist.Normal(0.0, 1.0), obs=y)


def test_bad_input_gives_clear_errors():
    y = torch.zeros(3)
    with pytest.raises(InputError, match="kernel"):
        sample_posterior(linear_model, kernel="metropolis")
    with pytest.raises(InputError, match="num_chains"):
        sample_posterior(constrained_model, num_chains=0)
    with pytest.raises(InputError, match="no latent"):
        sample_posterior(no_latent_model, y, num_warmup=5, num_samples=5, progress=False)
    x = torch.randn(4, 2, dtype=torch.float64)
    bad = torch.tensor([0.0, float("nan"), 1.0, 2.0], dtype=torch.float64)
    with pytest.raises(InputError, match="NaN"):
        sample_posterior(linear_model, x, bad, 0.5, num_warmup=5, num_samples=5, progress=False)
    with pytest.raises(InputError, match="target_accept"):
        sample_posterior(constrained_model, target_accept=1.5)


def test_warmup_windows_follow_stan():
    assert warmup_windows(1000) == [(75, 100), (100, 150), (150, 250), (250, 450), (450, 950)]
    assert warmup_windows(10) == []


def test_traced_step_matches_eager_sampler():
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    y = x.sum(1)
    kw = dict(num_chains=2, num_warmup=15, num_samples=10, seed=5, progress=False)
    fast = sample_posterior(linear_model, x, y, 0.5, compile=True, **kw)
    slow = sample_posterior(linear_model, x, y, 0.5, compile=False, **kw)
    torch.testing.assert_close(fast.samples["beta"], slow.samples["beta"], rtol=1e-6, atol=1e-8)
    assert torch.equal(fast.sample_stats["n_steps"], slow.sample_stats["n_steps"])
