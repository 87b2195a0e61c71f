"""The full variational bound on 1-D Gaussian data, where the true NLL is known exactly."""

import math

import pytest
import torch
from stats_testing import z_bound

from bayesdl.inference import Trainer, bits_per_dim
from bayesdl.models.diffusion import DDPM
from bayesdl.nn import DenoisingMLP
from tests.diffusion_helpers import OptimalGaussianDenoiser

TRUE_NLL = 0.5 * math.log(2 * math.pi * math.e)  # 1.4189 nats: the entropy of N(0, 1)


def _paired_gap(model, n, seed):
    x = torch.randn(n, 1, generator=torch.Generator().manual_seed(seed))
    exact = 0.5 * math.log(2 * math.pi) + 0.5 * x[:, 0].double() ** 2
    bound = model.nll_bound(x, seed=seed + 1, return_terms=True)
    gap = bound.total.double() - exact
    return bound, gap.mean().item(), gap.std().item() / math.sqrt(n), exact.mean().item()


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_bound_with_optimal_denoiser_is_tight_for_gaussian_data(schedule, seed):
    """With sigma_t^2 = beta_t the optimal reverse chain IS the true one for N(0, 1) data, so the expected
    bound equals the NLL exactly: the estimate must sit at 1.419 nats within Monte Carlo error."""
    model = DDPM(
        OptimalGaussianDenoiser(schedule, 1000),
        data_shape=[1],
        num_steps=1000,
        schedule=schedule,
        variance="beta",
    )
    n = 10000
    bound, gap, se, exact_mean = _paired_gap(model, n, seed=seed(0))
    z = z_bound(tests=3)  # three checks, false-failure rate 1e-5 in all
    # the test points are a fair sample of N(0, 1): -log N(x) has sd 1/sqrt(2)
    assert abs(exact_mean - TRUE_NLL) <= z * math.sqrt(0.5 / n)
    assert gap > -z * se  # bound >= true NLL, up to the Monte Carlo error of the x_t draws
    # and equal to it up to that error (measured se ~0.01) plus 0.02 nats for the float32 sum of 1000 terms
    assert gap < z * se + 0.02, (gap, se)
    assert torch.allclose(bound.total, bound.prior + bound.terms.sum(1))
    assert bound.terms.shape == (10000, 1000)


def test_bound_with_posterior_variance_is_strictly_above_the_nll(seed):
    """sigma_t^2 = beta-tilde_t is not the true reverse variance here, so the gap is strictly positive."""
    model = DDPM(
        OptimalGaussianDenoiser("linear", 1000), data_shape=[1], num_steps=1000, variance="beta_tilde"
    )
    _, gap, se, _ = _paired_gap(model, 2000, seed=seed(3))
    assert gap - z_bound() * se > 0, (gap, se)


@pytest.mark.parametrize("prediction", ["x0", "v"])
def test_bound_does_not_depend_on_the_parameterisation(prediction):
    eps_model = DDPM(OptimalGaussianDenoiser("linear", 200), data_shape=[1], num_steps=200)
    other = DDPM(
        OptimalGaussianDenoiser("linear", 200, prediction),
        data_shape=[1],
        num_steps=200,
        prediction=prediction,
    )
    x = torch.randn(64, 1, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(eps_model.nll_bound(x, seed=4), other.nll_bound(x, seed=4), rtol=1e-4, atol=1e-4)


def test_bound_after_brief_training_is_within_0_2_nats(seed):
    torch.manual_seed(seed(0))
    data = torch.randn(4096, 1, generator=torch.Generator().manual_seed(seed(0)))
    model = DDPM(DenoisingMLP(1, hidden=32, num_blocks=2, time_dim=32), data_shape=[1], num_steps=1000)
    Trainer(
        model,
        lr=3e-3,
        epochs=25,
        batch_size=256,
        scheduler="cosine",
        progress=False,
        device="cpu",
        seed=seed(0),
    ).fit(data)
    _, gap, se, _ = _paired_gap(model, 1000, seed=seed(7))
    assert gap > -z_bound() * se  # a bound, up to Monte Carlo error (false-failure rate 1e-5)
    assert gap < 0.2, (gap, se)  # trained quality


def test_bits_per_dim_uses_the_shared_helper_and_the_bound_is_reproducible():
    model = DDPM(OptimalGaussianDenoiser("linear", 50), data_shape=[1], num_steps=50)
    x = torch.randn(10, 1)
    a, b = model.nll_bound(x, seed=5), model.nll_bound(x, seed=5)
    assert torch.equal(a, b)
    assert torch.allclose(model.bits_per_dim(x, seed=5), bits_per_dim(-a, 1))
    assert torch.allclose(model.bits_per_dim(x, seed=5), a / math.log(2))


def test_discretized_bound_is_a_bound_on_discrete_probabilities():
    """For data on a 4-level grid the bound of any model is >= -log P(x) >= 0, and the prior/decoder terms are finite."""
    levels = torch.tensor([[0], [1], [2], [3]]).repeat(50, 1).float()
    x = 2 * levels / 3 - 1
    model = DDPM(
        DenoisingMLP(1, hidden=8), data_shape=[1], num_steps=100, decoder="discretized", num_levels=4
    )
    bound = model.nll_bound(x, seed=0, return_terms=True)
    assert bool((bound.decoder >= 0).all())
    assert bool((bound.total > 0).all()) and bool(torch.isfinite(bound.total).all())


class _PerturbedOptimalDenoiser(OptimalGaussianDenoiser):
    """The optimal denoiser plus a constant output error, to measure how the bound amplifies errors."""

    def __init__(self, schedule, num_steps, prediction, error):
        super().__init__(schedule, num_steps, prediction)
        self.error = error

    def forward(self, x, t):
        return super().forward(x, t) + self.error


@pytest.mark.parametrize("prediction,amplified", [("eps", True), ("v", False)])
def test_cosine_last_step_amplifies_eps_errors_but_not_v_errors(prediction, amplified):
    """Why the cosine bound is poor with eps-prediction: at t = T, beta_T is capped at 0.999, and an eps error d
    costs beta_T / (2 alpha_T (1 - alpha-bar_T)) d^2, about 500 d^2 nats per dimension (0.01 d^2 on the linear
    schedule). With v-prediction the eps error at t = T is sqrt(alpha-bar_T) d, so nothing is amplified."""
    T, d = 100, 0.05
    x = torch.randn(2000, 1, generator=torch.Generator().manual_seed(0))
    exact = DDPM(
        OptimalGaussianDenoiser("cosine", T, prediction),
        data_shape=[1],
        num_steps=T,
        schedule="cosine",
        prediction=prediction,
    )
    noisy = DDPM(
        _PerturbedOptimalDenoiser("cosine", T, prediction, d),
        data_shape=[1],
        num_steps=T,
        schedule="cosine",
        prediction=prediction,
    )
    extra = (
        noisy.nll_bound(x, seed=1, return_terms=True).terms[:, -1].mean()
        - exact.nll_bound(x, seed=1, return_terms=True).terms[:, -1].mean()
    )
    q = exact
    weight = float(q.betas[-1] / (2 * q.alphas[-1] * (1 - q.alpha_bar[-1])))
    if amplified:
        assert weight > 400
        assert abs(float(extra) - weight * d**2) < 0.05 * weight * d**2
    else:
        assert abs(float(extra)) < 1e-3
