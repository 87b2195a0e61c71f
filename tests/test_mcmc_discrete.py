"""Discrete latent sites: enumerable ones are summed out (checked against the exact posterior on a grid);
non-enumerable ones are refused with an error that names the site.

Tolerance: the posterior mean and sd of each mixture location must be within z Monte Carlo standard
errors of the exact values (bayesdl's split ESS; sd by the delta method), z by Bonferroni over the 4
quantities for a false-failure rate of 1e-4. The grid integral's error (1/400 of the range, trapezoid)
is below 1e-4 of a posterior sd and is ignored.
"""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from scipy import stats

from bayesdl.errors import InputError
from bayesdl.inference.mcmc import sample_posterior
from bayesdl.inference.mcmc.convergence import convergence_summary

PRIOR_LOC, PRIOR_SD, WEIGHTS = (-2.0, 2.0), 0.5, (0.3, 0.7)


def mixture(y):
    locs = pyro.sample("locs", dist.Normal(y.new_tensor(PRIOR_LOC), PRIOR_SD).to_event(1))
    with pyro.plate("data", y.shape[0]):
        z = pyro.sample("z", dist.Categorical(y.new_tensor(WEIGHTS)))
        pyro.sample("y", dist.Normal(locs[z], 1.0), obs=y)


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.cat(
        [
            torch.randn(6, generator=g, dtype=torch.float64) - 2.0,
            torch.randn(14, generator=g, dtype=torch.float64) + 2.0,
        ]
    )


def _exact_moments(y: np.ndarray) -> np.ndarray:
    """Mean and sd of each location under the exact posterior, by quadrature on a 400 x 400 grid."""
    grid = np.linspace(-6.0, 6.0, 401)
    m1, m2 = np.meshgrid(grid, grid, indexing="ij")
    log_post = stats.norm.logpdf(m1, PRIOR_LOC[0], PRIOR_SD) + stats.norm.logpdf(m2, PRIOR_LOC[1], PRIOR_SD)
    for yi in y:  # the discrete assignment of each point summed out exactly
        log_post += np.logaddexp(
            np.log(WEIGHTS[0]) + stats.norm.logpdf(yi, m1, 1.0),
            np.log(WEIGHTS[1]) + stats.norm.logpdf(yi, m2, 1.0),
        )
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    out = []
    for m in (m1, m2):
        mean = (w * m).sum()
        out.append((mean, np.sqrt((w * (m - mean) ** 2).sum())))
    return np.array(out)  # [[mean1, sd1], [mean2, sd2]]


def test_enumerated_mixture_matches_exact_posterior():
    y = _data()
    post = sample_posterior(mixture, y, num_chains=4, num_warmup=300, num_samples=500, seed=0, progress=False)
    assert sorted(post.samples) == ["locs"]  # the assignments are summed out, not sampled
    exact = _exact_moments(y.numpy())
    s = convergence_summary(post.samples["locs"])
    z = np.concatenate([(s.mean - exact[:, 0]) / s.mcse_mean, (s.sd - exact[:, 1]) / s.mcse_sd])
    assert (np.abs(z) < stats.norm.isf(1e-4 / 8)).all(), z
    assert (s.r_hat < 1.01).all()


def test_non_enumerable_discrete_site_is_refused_by_name():
    def model(y):
        count = pyro.sample("count", dist.Poisson(y.new_tensor(3.0)))
        pyro.sample("y", dist.Normal(count, 1.0), obs=y)

    with pytest.raises(InputError, match=r"'count'.*NUTS/HMC need continuous latent"):
        sample_posterior(
            model, torch.tensor(2.0), num_chains=2, num_warmup=10, num_samples=10, progress=False
        )
