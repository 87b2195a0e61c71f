"""Tests of the generic samplers in bayesdl.inference that the RBM uses: block Gibbs and AIS."""

from __future__ import annotations

import math

import pytest
import torch
from stats_testing import z_bound

from bayesdl.errors import InputError
from bayesdl.inference.ais import (
    AnnealingPath,
    ais_betas,
    annealed_importance_sampling,
    summarize_log_weights,
)
from bayesdl.inference.gibbs import block_gibbs


class GaussianPath(AnnealingPath):
    """f_beta(x) = exp(-x^2 / (2 s_beta^2)) with 1/s_beta^2 = (1 - beta) + beta / s^2; exact Z_beta known."""

    def __init__(self, s: float) -> None:
        self.s = s

    def precision(self, beta: float) -> float:
        return (1.0 - beta) + beta / self.s**2

    def log_z_base(self) -> float:
        return 0.5 * math.log(2 * math.pi)

    def sample_base(self, n, generator):
        return torch.randn(n, generator=generator, dtype=torch.float64)

    def log_unnormalized(self, x, beta):
        return -0.5 * self.precision(beta) * x**2

    def transition(self, x, beta, generator):  # exact independent draw: a valid (perfect) transition
        return torch.randn(x.shape, generator=generator, dtype=torch.float64) / math.sqrt(
            self.precision(beta)
        )


def test_ais_recovers_a_known_normaliser(seed):
    path = GaussianPath(s=3.0)
    est = annealed_importance_sampling(path, num_chains=500, num_betas=200, seed=seed(0))
    exact = 0.5 * math.log(2 * math.pi) + math.log(3.0)
    # within z = 4.42 delta-method standard errors (false-failure rate 1e-5), and the error bar is small
    assert est.covers(exact, z_bound()) and est.log_z_std_err < 0.02, (est.log_z, exact, est.log_z_std_err)
    assert est.log_z_lower < est.log_z < est.log_z_upper


def test_ais_is_seeded_and_checks_its_arguments():
    path = GaussianPath(s=2.0)
    a = annealed_importance_sampling(path, num_chains=10, num_betas=20, seed=5)
    b = annealed_importance_sampling(path, num_chains=10, num_betas=20, seed=5)
    assert a.log_z == b.log_z
    with pytest.raises(InputError):
        annealed_importance_sampling(path, num_chains=10, betas=torch.tensor([0.0, 0.7, 0.5, 1.0]))
    with pytest.raises(InputError):
        annealed_importance_sampling(path, num_chains=1, num_betas=10)


def test_beta_schedule_and_weight_summary():
    betas = ais_betas(14500)
    assert len(betas) == 14500 and float(betas[0]) == 0.0 and float(betas[-1]) == 1.0
    assert bool((betas[1:] > betas[:-1]).all())
    assert int((betas > 0.9).sum()) > 9000  # densest near beta = 1, as in Salakhutdinov & Murray
    est = summarize_log_weights(torch.log(torch.tensor([1.0, 3.0], dtype=torch.float64)), log_z_base=1.0)
    assert abs(est.log_z - (1.0 + math.log(2.0))) < 1e-12
    # sd of the weights {1, 3} is sqrt(2); sigma_hat = sqrt(2)/sqrt(2) = 1; relative to the mean 2: 0.5
    assert abs(est.log_z_std_err - 0.5) < 1e-12 and est.log_z_lower == -math.inf


def test_block_gibbs_on_a_two_variable_model_matches_its_joint(seed):
    # x, y binary with p(x=y) = 0.9: the conditionals copy the other variable with probability 0.9.
    def copy_noisy(prev, g):
        flip = (torch.rand(prev.shape, generator=g) < 0.1).float()
        return (prev + flip) % 2

    gen = torch.Generator().manual_seed(seed(0))
    out = block_gibbs(
        torch.zeros(4000, 1),
        [copy_noisy, copy_noisy],
        num_steps=30,
        generator=gen,
        statistic=lambda blocks: (blocks[0] == blocks[1]).float().squeeze(1),
    )
    x, y = out.blocks
    agree = float((x == y).float().mean())
    # 4000 independent chains, 30 sweeps: the start's bias decays as 0.8^30 < 2e-3; binomial standard errors
    n, z = 4000, z_bound(tests=2)
    assert abs(agree - 0.9) <= z * math.sqrt(0.9 * 0.1 / n) + 2e-3
    assert abs(float(x.mean()) - 0.5) <= z * math.sqrt(0.25 / n) + 2e-3
    assert out.statistics.shape == (30, 4000)
    with pytest.raises(InputError):
        block_gibbs(torch.zeros(2, 1), [], 3)
    with pytest.raises(InputError):
        block_gibbs(torch.zeros(2, 1), [copy_noisy], -1)
