"""NUTS on a density the model cannot evaluate everywhere: a failing Cholesky rejects the point, it does not crash.

The target is p(x) proportional to N(x; 0, 1) N(0; 0, [[1, r], [r, 1]]) with r = x / 2.5, written with a
Cholesky factor, so the model raises ``torch.linalg.LinAlgError`` for |x| >= 2.5. On |x| < 2.5 the density
is exp(-x^2 / 2) / sqrt(1 - r^2), up to a constant, whose moments quadrature gives exactly. A trajectory that
leaves the support must end there as a divergence (as Stan rejects such a proposal) and the draws must
still follow the restricted density.
"""

import math

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from scipy.integrate import quad
from stats_testing import mcse_mean, z_bound

from bayesdl.inference.mcmc import sample_posterior
from bayesdl.inference.mcmc.potential import reject_failed_evaluations

EDGE = 2.5


def _covariance(r: torch.Tensor) -> torch.Tensor:
    one = torch.ones_like(r)
    return torch.stack([torch.stack([one, r], -1), torch.stack([r, one], -1)], -2)


def correlated_pair(edge: float = EDGE) -> None:
    x = pyro.sample("x", dist.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0))
    scale_tril = torch.linalg.cholesky(_covariance(x / edge))
    zero = torch.zeros(2, dtype=torch.float64)
    pyro.sample("y", dist.MultivariateNormal(zero, scale_tril=scale_tril), obs=zero)


def potential(z: torch.Tensor) -> torch.Tensor:
    """The same target as a potential on z [C, 1]: x^2 / 2 + log det(L)."""
    chol = torch.linalg.cholesky(_covariance(z[:, 0] / EDGE))
    return 0.5 * z[:, 0] ** 2 + chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _exact_second_moment() -> float:
    density = lambda x: math.exp(-0.5 * x * x) / math.sqrt(1.0 - (x / EDGE) ** 2)  # noqa: E731
    mass = quad(density, -EDGE, EDGE, limit=200)[0]
    return quad(lambda x: x * x * density(x), -EDGE, EDGE, limit=200)[0] / mass


def test_a_failing_evaluation_gets_infinite_energy_and_the_others_are_kept():
    z = torch.tensor([[0.5], [3.0], [-1.0]], dtype=torch.float64)

    def energy_and_grad(z):
        z = z.detach().requires_grad_(True)
        u = potential(z)
        return u.detach(), torch.autograd.grad(u.sum(), z)[0]

    u, g = reject_failed_evaluations(energy_and_grad, z)
    u_ok, g_ok = energy_and_grad(z[[0, 2]])
    assert u[1] == float("inf") and g[1].abs().sum() == 0
    torch.testing.assert_close(u[[0, 2]], u_ok, rtol=0, atol=0)
    torch.testing.assert_close(g[[0, 2]], g_ok, rtol=0, atol=0)


@pytest.mark.parametrize("form", ["pyro-eager", "pyro-traced", "pyro-inductor", "potential"])
def test_nuts_rejects_points_outside_the_support_and_samples_the_restricted_density(seed, form):
    common = dict(num_chains=4, num_warmup=300, num_samples=600, seed=seed(3), progress=False)
    if form == "potential":
        post = sample_posterior(potential, potential_dim=1, **common)
        x = post.samples["z"][..., 0]
    else:
        compile = {"pyro-eager": False, "pyro-traced": "jit", "pyro-inductor": "inductor"}[form]
        post = sample_posterior(correlated_pair, compile=compile, **common)
        x = post.samples["x"]
    x = x.numpy()
    assert np.abs(x).max() < EDGE
    # a 1-D trajectory reaches |x| = sqrt(x^2 + p^2), which exceeds 2.5 with probability about
    # exp(-2.5^2 / 2) = 0.044 per transition: among 3600 transitions some must have been rejected
    assert int(post.sample_stats["diverging"].sum()) > 0
    sq = x**2
    assert abs(sq.mean() - _exact_second_moment()) <= z_bound(tests=4) * mcse_mean(sq)
