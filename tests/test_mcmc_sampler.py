"""Correctness of the batched NUTS/HMC sampler against closed forms, plus seeding, funnels and bad input."""

import math

import arviz as az
import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from scipy.stats import chi2
from stats_testing import mcse_mean, z_bound

from bayesdl.errors import InputError
from bayesdl.inference.mcmc import jittered_step_size, sample_posterior, warmup_windows
from bayesdl.models.eight_schools import eight_schools_centered, eight_schools_data


def _ess(draws: torch.Tensor) -> np.ndarray:
    """Bulk ESS per coordinate of draws [chain, draw, K]."""
    return np.array([float(az.ess(draws[..., k].numpy())) for k in range(draws.shape[-1])])


def linear_model(x, y, sigma):
    beta = pyro.sample("beta", dist.Normal(x.new_zeros(()), 1.0).expand([x.shape[1]]).to_event(1))
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(x @ beta, sigma), obs=y)


def test_conjugate_linear_regression_matches_closed_form(seed):
    g = torch.Generator().manual_seed(seed(1))
    x = torch.randn(30, 3, generator=g, dtype=torch.float64)
    sigma = 0.5
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + sigma * torch.randn(
        30, generator=g, dtype=torch.float64
    )
    precision = x.T @ x / sigma**2 + torch.eye(3, dtype=torch.float64)
    cov = torch.linalg.inv(precision)
    mean = cov @ x.T @ y / sigma**2
    post = sample_posterior(
        linear_model, x, y, sigma, num_chains=4, num_warmup=300, num_samples=400, seed=seed(0), progress=False
    )
    draws = post.samples["beta"]
    ess = _ess(draws)
    assert ess.min() > 300
    flat = draws.reshape(-1, 3)
    sd = cov.diagonal().sqrt()
    # 3 means, 3 variances and 3 correlations, each within z Monte Carlo standard errors (z = 4.9 for a
    # false-failure rate of 1e-5 over the 9 checks); the MCSE comes from ArviZ's ESS of the very quantity
    z = z_bound(tests=9)
    for k in range(3):
        xk = draws[..., k].numpy()
        assert abs(xk.mean() - float(mean[k])) <= z * mcse_mean(xk), k
        sq = (xk - float(mean[k])) ** 2  # E = posterior variance (the mean is known exactly)
        assert abs(sq.mean() - float(cov[k, k])) <= z * mcse_mean(sq), k
    # correlations: MC error about (1 - rho^2) / sqrt(ESS)
    emp_cov = torch.cov(flat.T)
    corr_true = cov / torch.outer(sd, sd)
    emp_sd = emp_cov.diagonal().sqrt()
    corr_emp = emp_cov / torch.outer(emp_sd, emp_sd)
    assert ((corr_emp - corr_true).abs() <= z * (1 - corr_true**2 + 1e-3) / math.sqrt(ess.min())).all()
    assert post.sample_stats["diverging"].sum() == 0
    assert post.log_likelihood["y"].shape == (4, 400, 30)


def constrained_model():
    pyro.sample("s", dist.HalfNormal(torch.tensor(2.0, dtype=torch.float64)))
    pyro.sample("l", dist.LogNormal(torch.tensor(0.5, dtype=torch.float64), 0.4))


def test_constrained_sites_have_correct_moments(seed):
    post = sample_posterior(
        constrained_model, num_chains=4, num_warmup=300, num_samples=500, seed=seed(3), progress=False
    )
    s, l_ = post.samples["s"], post.samples["l"]
    assert bool((s > 0).all()) and bool((l_ > 0).all())
    truth = {
        "s": (2.0 * math.sqrt(2 / math.pi), 4.0 * (1 - 2 / math.pi)),
        "l": (math.exp(0.5 + 0.08), (math.exp(0.16) - 1) * math.exp(1.0 + 0.16)),
    }
    z = z_bound(tests=4)  # 2 sites x (mean, variance); false-failure rate 1e-5 in all
    for name, (m, v) in truth.items():
        x = post.samples[name].numpy()
        assert abs(x.mean() - m) <= z * mcse_mean(x), name
        sq = (x - m) ** 2  # E = the variance v (the mean is known exactly)
        assert abs(sq.mean() - v) <= z * mcse_mean(sq), name


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


def test_centred_eight_schools_reports_divergences(seed):
    y, sigma = eight_schools_data()
    # The funnel makes divergences likely, not certain: with 4 chains and target_accept 0.8 a run had none
    # (seed sweep). At target_accept 0.6, 23 of 32 independently adapted chains (4 runs) diverged within 100
    # draws, so all 12 chains stay clean with probability about 0.28^12 = 2e-7.
    post = sample_posterior(
        eight_schools_centered,
        y,
        sigma,
        num_chains=12,
        num_warmup=100,
        num_samples=100,
        seed=seed(0),
        max_tree_depth=5,
        target_accept=0.6,
        progress=False,
    )
    stats = post.sample_stats
    assert int(stats["diverging"].sum()) > 0
    assert set(stats) >= {
        "diverging",
        "energy",
        "tree_depth",
        "n_steps",
        "step_size",
        "acceptance_rate",
        "reached_max_treedepth",
    }
    assert bool((stats["n_steps"] <= 2**5 - 1).all()) and bool((stats["tree_depth"] <= 5).all())


# Jittered HMC on a Gaussian: with t = L e w the trajectory time of one coordinate (after mass adaptation
# w ~ 1), exact dynamics map z to z cos t + p sin t, so z^2 - 1 is an eigenfunction with lag-1
# autocorrelation E[cos^2 t]. With e jittered uniformly by +-20%, the worst case over the nominal t (a
# half period, t ~ pi) is E[cos^2 t] = 0.878; allowing for rejections we take rho = 0.9, so every chain
# has ESS(z^2) >= N (1 - rho) / (1 + rho) = N / 19 (static HMC at t = 2 pi has rho -> 1: a stuck chain).
WORST_CASE_Z2_EFFICIENCY = (1 - 0.9) / (1 + 0.9)


@pytest.mark.parametrize("kernel, num_chains, num_samples", [("nuts", 16, 400), ("hmc", 40, 1000)])
def test_potential_function_and_hmc_kernel_sample_a_gaussian(kernel, num_chains, num_samples, seed):
    """Every one of many independently adapted chains mixes (many seeds' worth in one batched call).

    Each of the 2 * (2 + C) + 1 checks below has a two-sided normal bound at a false-failure rate of
    1e-5 / (2 (2 + C) + 1), so the test fails by chance with probability below 1e-5.
    """
    scales = torch.tensor([1.0, 3.0], dtype=torch.float64)
    potential = lambda z: 0.5 * ((z / scales) ** 2).sum(-1)  # noqa: E731
    post = sample_posterior(
        potential,
        potential_dim=2,
        kernel=kernel,
        num_chains=num_chains,
        num_warmup=250,
        num_samples=num_samples,
        seed=seed(2),
        progress=False,
    )
    x = (post.samples["z"] / scales).numpy()  # [chain, draw, 2], target N(0, I)
    z = z_bound(tests=2 * (2 + num_chains) + 1)
    for k in range(2):
        xk, x2 = x[..., k], x[..., k] ** 2
        # pooled mean and variance (the mean is known to be 0, so mean(x^2) estimates the variance 1)
        assert abs(xk.mean()) <= z * mcse_mean(xk), (kernel, k)
        assert abs(x2.mean() - 1.0) <= z * mcse_mean(x2), (kernel, k)
        # no chain is stuck: each chain's log variance estimate has sd sqrt(2 / ESS) <= sqrt(2 / (N / 19))
        per_chain_sd = math.sqrt(2.0 / (WORST_CASE_Z2_EFFICIENCY * num_samples))
        log_var = np.log(x2.mean(1))
        assert np.abs(log_var).max() <= z * per_chain_sd, (kernel, k, np.exp(0.5 * log_var).round(2))
        # pooled efficiency is at least the worst single chain's (a stalled chain drags tail ESS to ~1%)
        assert float(az.ess(xk, method="tail")) >= WORST_CASE_Z2_EFFICIENCY * num_chains * num_samples, (
            kernel,
            k,
        )
    # split R-hat^2 ~ 1 + (tau F - 1) / N' for M = 2C split chains of N' = N / 2 draws with F ~ chi2_{M-1} /
    # (M - 1) and tau = N / ESS <= 19 (the worst-case chain above): about 1.035 for HMC, 1.11 for NUTS. (It
    # cannot see one stalled chain among many; the per-chain check above does.)
    m, half = 2 * num_chains, num_samples // 2
    f = chi2.isf(1e-5 / (2 * (2 + num_chains) + 1), m - 1) / (m - 1)
    limit = math.sqrt(1 + (f / WORST_CASE_Z2_EFFICIENCY - 1) / half)
    assert float(az.rhat(x[..., 0])) <= limit and float(az.rhat(x[..., 1])) <= limit, (kernel, limit)


def test_hmc_step_size_jitter_is_seeded_and_zero_means_static():
    potential = lambda z: 0.5 * (z**2).sum(-1)  # noqa: E731
    kw = dict(potential_dim=1, kernel="hmc", num_chains=2, num_warmup=0, num_samples=5, progress=False)
    a = sample_posterior(potential, seed=3, **kw)
    b = sample_posterior(potential, seed=3, **kw)
    static = sample_posterior(potential, seed=3, step_size_jitter=0.0, **kw)
    assert torch.equal(a.samples["z"], b.samples["z"])
    assert not torch.equal(a.samples["z"], static.samples["z"])
    eps = jittered_step_size(torch.ones(1000, dtype=torch.float64), 0.2, torch.Generator().manual_seed(0))
    assert float(eps.min()) >= 0.8 and float(eps.max()) <= 1.2
    assert abs(float(eps.mean()) - 1.0) <= z_bound() * 0.4 / math.sqrt(12 * 1000)  # uniform on [0.8, 1.2]
    for bad in (-0.1, 1.0, float("nan"), "0.2"):
        with pytest.raises(InputError, match="step_size_jitter"):
            sample_posterior(potential, seed=3, step_size_jitter=bad, **kw)


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


@pytest.mark.parametrize(
    "field, message",
    [("sigma_zero", "sigma"), ("sigma_negative", "sigma"), ("sigma_nan", "NaN"), ("y_shape", "y")],
)
def test_eight_schools_refuses_bad_data_naming_it(field, message):
    y, sigma = eight_schools_data()
    y, sigma = y.clone(), sigma.clone()
    if field == "sigma_zero":
        sigma[2] = 0.0
    elif field == "sigma_negative":
        sigma[0] = -1.0
    elif field == "sigma_nan":
        sigma[1] = float("nan")
    else:
        y = y[:5]
    with pytest.raises(InputError, match=message):
        sample_posterior(
            eight_schools_centered, y, sigma, num_chains=2, num_warmup=2, num_samples=2, progress=False
        )
