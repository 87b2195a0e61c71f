"""The importance-sampled log-likelihood against the exact log p(x) of probabilistic PCA."""

from __future__ import annotations

import math

import pyro.distributions as dist
import pytest
import torch
from stats_testing import z_bound

from bayesdl.inference import active_units, elbo_terms, log_likelihood
from bayesdl.inference.estimators import log_importance_weights


class PPCA:
    """x = W z + mu + eps, z ~ N(0, I_L), eps ~ N(0, s^2 I_D), with a deliberately imperfect proposal:
    a diagonal Gaussian around the exact posterior mean shifted by 0.3, with standard deviations 1.5x
    the exact marginal ones."""

    def __init__(self, seed: int = 0, d: int = 5, latent: int = 2, noise: float = 0.5) -> None:
        g = torch.Generator().manual_seed(seed)
        self.w = torch.randn(d, latent, generator=g, dtype=torch.float64)
        self.mu = torch.randn(d, generator=g, dtype=torch.float64)
        self.noise = noise
        m = self.w.T @ self.w + noise**2 * torch.eye(latent, dtype=torch.float64)
        self.m_inv = torch.linalg.inv(m)
        self.post_sd = (noise**2 * torch.diagonal(self.m_inv)).sqrt()

    def exact_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        cov = self.w @ self.w.T + self.noise**2 * torch.eye(len(self.mu), dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.mu, cov).log_prob(x)

    def sample(self, n: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.w.shape[1], generator=g, dtype=torch.float64)
        return (
            z @ self.w.T
            + self.mu
            + self.noise * torch.randn(n, len(self.mu), generator=g, dtype=torch.float64)
        )

    def proposal(self, x: torch.Tensor) -> dist.TorchDistribution:
        mean = (x - self.mu) @ self.w @ self.m_inv.T
        return dist.Normal(mean + 0.3, 1.5 * self.post_sd.expand_as(mean)).to_event(1)

    def prior_distribution(self) -> dist.TorchDistribution:
        zeros = torch.zeros(self.w.shape[1], dtype=torch.float64)
        return dist.Normal(zeros, torch.ones_like(zeros)).to_event(1)

    def likelihood(self, z: torch.Tensor) -> dist.TorchDistribution:
        loc = z @ self.w.T + self.mu
        return dist.Normal(loc, torch.full_like(loc, self.noise)).to_event(1)


@pytest.fixture
def ppca_setup(seed):
    model = PPCA(seed=seed(0))
    x = model.sample(40, seed=seed(1))
    return model, x, model.exact_log_prob(x)


def test_iwae_estimate_converges_to_exact_log_likelihood(ppca_setup, seed):
    model, x, exact = ppca_setup
    gaps, ses = {}, {}
    for k in (1, 10, 100, 5000):
        est = log_likelihood(model, x, num_samples=k, batch_size=16, chunk_size=700, seed=seed(k))
        gaps[k] = float((est.log_prob - exact).mean())
        ses[k] = float((est.log_prob - exact).std() / math.sqrt(len(x)))  # sd over the 40 examples
        if k == 5000:
            z = (est.log_prob - exact) / est.stderr
            # every one of the 40 examples, and the data-set mean, within z standard errors (Bonferroni over
            # 41 checks, false-failure rate 1e-5); the log's bias, about -stderr^2 / 2, is negligible here
            zb = z_bound(tests=41)
            assert float(z.abs().max()) <= zb, float(z.abs().max())
            assert abs(gaps[k]) <= zb * est.mean_stderr() + 1e-9
            assert bool((est.ess > 100).all())
    # the expected bound rises with K (Burda et al. 2016): no observed step down beyond z standard errors of
    # the difference (over the examples; the runs are independent), and K = 1 (the ELBO) is clearly low
    zb = z_bound(tests=4)
    for small, big in ((1, 10), (10, 100), (100, 5000)):
        assert gaps[small] - gaps[big] <= zb * math.hypot(ses[small], ses[big]), (small, big, gaps, ses)
    # E[gap_1] = -E_x KL(q || p(z | x)) <= -0.44 nats: per latent KL(N(m + 0.3, 1.5 s) || N(m, s)) =
    # 0.22 + 0.045 / s^2; measured -1.2 to -7.2 nats over eight models
    assert gaps[1] < 0, gaps


def test_elbo_is_below_exact_log_likelihood(ppca_setup):
    model, x, exact = ppca_setup
    terms = elbo_terms(model, x, num_samples=4000, seed=0)
    assert bool((terms.elbo < exact).all())
    # the analytic KL of two diagonal Gaussians, checked by hand for one example
    q = model.proposal(x[:1])
    m, s = q.base_dist.loc[0], q.base_dist.scale[0]
    kl = 0.5 * (s**2 + m**2 - 1 - 2 * s.log()).sum()
    assert float(terms.kl[0]) == pytest.approx(float(kl), rel=1e-9)


def test_standard_error_matches_spread_of_repeated_estimates(ppca_setup, seed):
    model, x, _ = ppca_setup
    reps = torch.stack(
        [log_likelihood(model, x[:5], num_samples=200, seed=seed(s)).log_prob for s in range(60)]
    )
    est = log_likelihood(model, x[:5], num_samples=200, seed=seed(999))
    ratio = reps.std(0) / est.stderr
    # the sd of 60 normal estimates has relative sd 1/sqrt(2 * 59) = 0.092, so ratio/1 is within
    # exp(+-z * 0.092) with z = 4.9 (5 examples, false-failure rate 1e-5), widened by the relative error
    # of one 200-draw standard error (measured sd of log stderr ~0.1 here): [0.4, 2.5] contains both
    assert bool(((ratio > 0.4) & (ratio < 2.5)).all()), ratio


def test_chunked_log_sum_exp_equals_the_direct_computation(ppca_setup, monkeypatch):
    model, x, _ = ppca_setup
    torch.manual_seed(11)
    lw = log_importance_weights(model, x[:7], 300)
    chunks = iter(lw.split(70))
    monkeypatch.setattr("bayesdl.inference.estimators.log_importance_weights", lambda m, xb, k: next(chunks))
    est = log_likelihood(model, x[:7], num_samples=300, batch_size=7, chunk_size=70)
    w = (lw - lw.max(0).values).exp()
    direct = torch.logsumexp(lw, 0) - math.log(300)
    se = w.std(0) / w.mean(0) / math.sqrt(300)
    assert torch.allclose(est.log_prob, direct)
    assert torch.allclose(est.stderr, se)
    assert torch.allclose(est.ess, w.sum(0) ** 2 / (w**2).sum(0))


def test_active_units_counts_latents_whose_posterior_mean_varies(ppca_setup):
    model, x, _ = ppca_setup

    class HalfDead(PPCA):
        def proposal(self, x):
            q = super().proposal(x)
            loc = q.base_dist.loc.clone()
            loc[:, 1] = 0.0  # the second unit ignores the data
            return dist.Normal(loc, q.base_dist.scale).to_event(1)

    count, activity = active_units(HalfDead(), x)
    assert count == 1 and activity[1] == 0 and activity[0] > 0.01
    assert active_units(model, x)[0] == 2


def test_one_importance_sample_has_no_standard_error(ppca_setup):
    """Before: num_samples=1 reported a standard error of 0."""
    model, x, _ = ppca_setup
    with pytest.warns(UserWarning, match="num_samples=1"):
        est = log_likelihood(model, x, num_samples=1, seed=0)
    assert torch.isnan(est.stderr).all() and math.isnan(est.mean_stderr())
    assert torch.isfinite(est.log_prob).all()
