"""Dense mass-matrix adaptation: exact moments of a correlated Gaussian, and the adapted metric is its covariance.

Tolerances: each estimated moment (mean of z_i, and mean of (z_i - mu_i)(z_j - mu_j), which is unbiased
for Sigma_ij because mu is known) is compared with the exact value in units of its Monte Carlo standard
error (from bayesdl's split ESS); z is Bonferroni's for a family-wise false-failure rate of 1e-4.
"""

import pyro
import pyro.distributions as dist
import torch
from scipy import stats

from bayesdl.inference.mcmc import sample_posterior
from bayesdl.inference.mcmc.convergence import convergence_summary

D = 5


def _gaussian():
    a = torch.randn(D, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    cov = a @ a.T + 0.05 * torch.eye(D, dtype=torch.float64)  # eigenvalues 0.07 ... 12: condition number ~160
    return torch.linspace(-1.0, 1.0, D, dtype=torch.float64), cov


def correlated_model(loc, cov):
    pyro.sample("x", dist.MultivariateNormal(loc, covariance_matrix=cov))


def test_dense_mass_recovers_exact_covariance():
    loc, cov = _gaussian()
    post = sample_posterior(
        correlated_model,
        loc,
        cov,
        num_chains=4,
        num_warmup=400,
        num_samples=500,
        seed=0,
        dense_mass=True,
        progress=False,
    )
    x = post.samples["x"]
    centred = x - loc
    iu = torch.triu_indices(D, D)
    products = centred[..., iu[0]] * centred[..., iu[1]]  # [C, N, D(D+1)/2]
    quantities = torch.cat([x, products], dim=-1)
    truth = torch.cat([loc, cov[iu[0], iu[1]]])
    s = convergence_summary(quantities)
    z = abs(s.mean - truth.numpy()) / s.mcse_mean
    assert (z < stats.norm.isf(1e-4 / (2 * len(truth)))).all(), z
    assert post.inv_mass.shape == (4, D, D)
    # each chain's adapted M^-1 estimates Sigma: the eigenvalues of Sigma^-1/2 M^-1 Sigma^-1/2 are about
    # (1 +- sqrt(D / n))^2 for n ~ 150 effective window draws, i.e. within [0.6, 1.5]; [0.4, 2.5] leaves margin
    root_inv = torch.linalg.inv(torch.linalg.cholesky(cov))
    ratio = torch.linalg.eigvalsh(root_inv @ post.inv_mass @ root_inv.T)
    assert bool((ratio > 0.4).all() and (ratio < 2.5).all()), ratio
    assert int(post.sample_stats["diverging"].sum()) == 0
