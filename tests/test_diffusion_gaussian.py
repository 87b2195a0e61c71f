"""The Gaussian terms of the bound against torch/scipy references."""

import torch
from scipy.stats import norm

from bayesdl.models.diffusion import discretized_gaussian_log_likelihood, gaussian_kl, gaussian_log_likelihood


def test_gaussian_kl_and_log_likelihood_match_torch():
    g = torch.Generator().manual_seed(0)
    m1, m2 = (
        torch.randn(50, generator=g, dtype=torch.float64),
        torch.randn(50, generator=g, dtype=torch.float64),
    )
    lv1, lv2 = (
        torch.randn(50, generator=g, dtype=torch.float64),
        torch.randn(50, generator=g, dtype=torch.float64),
    )
    p, q = (
        torch.distributions.Normal(m1, (0.5 * lv1).exp()),
        torch.distributions.Normal(m2, (0.5 * lv2).exp()),
    )
    assert torch.allclose(gaussian_kl(m1, lv1, m2, lv2), torch.distributions.kl_divergence(p, q))
    assert torch.allclose(gaussian_log_likelihood(m2, m1, lv1), p.log_prob(m2))


def test_discretized_gaussian_is_a_distribution_over_the_grid_and_matches_cdf_differences():
    levels = 17
    grid = torch.linspace(-1, 1, levels, dtype=torch.float64)
    for mean, sd in [(0.13, 0.3), (-0.95, 0.01), (1.4, 0.2), (0.0, 5.0)]:
        logp = discretized_gaussian_log_likelihood(
            grid,
            torch.tensor(mean, dtype=torch.float64),
            torch.tensor(2 * torch.log(torch.tensor(sd)).item(), dtype=torch.float64),
            levels,
        )
        assert abs(float(logp.exp().sum()) - 1) < 1e-9
        edges = torch.cat(
            [torch.tensor([-float("inf")]), (grid[:-1] + grid[1:]) / 2, torch.tensor([float("inf")])]
        ).numpy()
        ref = norm.cdf(edges[1:], mean, sd) - norm.cdf(edges[:-1], mean, sd)
        big = ref > 1e-200
        assert torch.allclose(logp[big], torch.log(torch.tensor(ref[big])), rtol=1e-6, atol=1e-9)


def test_discretized_gaussian_is_accurate_far_in_the_tails():
    # 40 standard deviations away: naive Phi(b) - Phi(a) would give log(0) = -inf
    logp = discretized_gaussian_log_likelihood(
        torch.tensor([0.5]),
        torch.tensor([0.0]),
        torch.tensor([2 * torch.log(torch.tensor(0.0125)).item()]),
        256,
    )
    assert torch.isfinite(logp).all() and float(logp) < -700
