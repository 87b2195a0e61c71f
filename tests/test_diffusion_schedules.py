"""The fixed forward process: schedules, closed-form q(x_t | x_0), and the posterior q(x_{t-1} | x_t, x_0)."""

import math

import pytest
import torch
from stats_testing import z_bound

from bayesdl.models.diffusion import DDPM, cosine_betas, linear_betas, make_betas, schedule_quantities
from bayesdl.nn import DenoisingMLP


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("num_steps", [1000, 200])
def test_alpha_bar_of_last_step_is_close_to_zero(schedule, num_steps):
    q = schedule_quantities(make_betas(schedule, num_steps))
    assert float(q["alpha_bar"][-1]) < 1e-4
    betas = q["betas"]
    assert bool((betas > 0).all()) and bool((betas < 1).all())
    assert bool((q["alpha_bar"][1:] < q["alpha_bar"][:-1]).all())


def test_schedules_match_the_papers():
    assert torch.allclose(
        linear_betas(1000)[[0, 499, 999]],
        torch.tensor([1e-4, 1e-4 + 499 * (0.02 - 1e-4) / 999, 0.02], dtype=torch.float64),
    )
    s, T = 0.008, 1000
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    ab = torch.cumprod(1 - cosine_betas(T), 0)
    for t in (1, 10, 500, 900):
        assert math.isclose(float(ab[t - 1]), f(t) / f(0), rel_tol=1e-9)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_closed_form_q_matches_sequential_noising(schedule, seed):
    torch.manual_seed(seed(0))
    T, n = 100, 40000
    model = DDPM(DenoisingMLP(1, hidden=4), data_shape=[1], num_steps=T, schedule=schedule)
    x0 = torch.full((n, 1), 1.5)
    x = x0.clone().double()
    betas = model.betas.double()
    for step in range(1, T + 1):
        x = torch.sqrt(1 - betas[step - 1]) * x + torch.sqrt(betas[step - 1]) * torch.randn_like(x)
        if step in (1, 7, 30, 100):
            t = torch.full((n,), step)
            mean, var = model.q_mean_variance(x0, t)
            sample_var = float(x.var())
            # 12 normal-approximation checks at z = 5.2 (false-failure rate 1e-5 in all); the variance of a
            # Gaussian sample variance is 2 var^2 / n, and the last check compares two independent means
            z = z_bound(tests=12)
            assert abs(float(x.mean()) - float(mean[0])) < z * math.sqrt(sample_var / n)
            assert abs(sample_var - float(var[0])) < z * sample_var * math.sqrt(2 / n)
            closed = model.q_sample(x0, t)
            assert abs(float(closed.mean()) - float(x.mean())) < z * math.sqrt(2 * sample_var / n)


@pytest.mark.parametrize("t_step,x0,x_t", [(2, 0.7, -0.3), (10, -1.2, 0.4), (60, 2.0, 1.1), (100, 0.0, -1.5)])
def test_posterior_matches_bayes_rule_numerically(t_step, x0, x_t):
    """q(x_{t-1} | x_t, x_0) prop. to q(x_t | x_{t-1}) q(x_{t-1} | x_0), normalised on a fine grid."""
    T = 100
    model = DDPM(DenoisingMLP(1, hidden=4), data_shape=[1], num_steps=T).double()
    exact = schedule_quantities(make_betas("linear", T))  # float64; the model stores float32
    beta = float(exact["betas"][t_step - 1])
    ab_prev = float(exact["alpha_bar"][t_step - 2])
    prior_mean, prior_var = math.sqrt(ab_prev) * x0, 1 - ab_prev
    sd = math.sqrt(min(prior_var, beta))
    grid = (
        torch.linspace(-8, 8, 400001, dtype=torch.float64) * sd
        + prior_mean * (beta / (beta + prior_var))
        + x_t * (prior_var / (beta + prior_var))
    )
    log_w = -0.5 * (x_t - math.sqrt(1 - beta) * grid) ** 2 / beta - 0.5 * (grid - prior_mean) ** 2 / prior_var
    w = torch.exp(log_w - log_w.max())
    w = w / torch.trapezoid(w, grid)
    num_mean = float(torch.trapezoid(w * grid, grid))
    num_var = float(torch.trapezoid(w * (grid - num_mean) ** 2, grid))
    mean, var = model.q_posterior(
        torch.tensor([[x0]], dtype=torch.float64),
        torch.tensor([[x_t]], dtype=torch.float64),
        torch.tensor([t_step]),
    )
    assert math.isclose(float(mean), num_mean, rel_tol=2e-6, abs_tol=1e-7)
    assert math.isclose(float(var), num_var, rel_tol=2e-6)


def test_schedules_are_buffers_that_follow_the_module():
    model = DDPM(DenoisingMLP(2, hidden=4), data_shape=[2], num_steps=10)
    state = model.state_dict()
    for name in ("betas", "alpha_bar", "posterior_variance", "posterior_mean_coef_x0"):
        assert name in state
    assert model.double().alpha_bar.dtype == torch.float64
