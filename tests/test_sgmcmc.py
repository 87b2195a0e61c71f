"""SG-MCMC on a conjugate Bayesian linear regression, against the exact posterior and the exact discrete chain.

Many independent chains run as one parameter tensor [chains, d] (the loss sums the chains' mean losses, so each
chain sees only its own gradient). After burn-in the chains' final states are independent draws; the sample
covariance entry (i, j) of n draws has sd sqrt((S_ii S_jj + S_ij^2) / n), and a mean has sd sqrt(S_ii / n).
Every check allows 5 sd: with the Bonferroni bound over the <= 12 quantities of a test, a false failure has
probability below 1e-5.

With full-batch gradients the samplers are linear Gaussian recursions, so their stationary law is known exactly:
SGLD (the unadjusted Langevin algorithm) keeps the posterior mean and inflates each eigen-variance 1/(N h) of
the posterior to 1/(N h (1 - lr h / 2)) (h an eigenvalue of the per-example precision); SGHMC's stationary
covariance solves a discrete Lyapunov equation per eigen-direction. The tests compare the draws with those exact
stationary laws, and check separately that at these step sizes the laws are within 2.5% of the posterior.
"""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from bayesdl.errors import InputError
from bayesdl.inference.sgmcmc import SGHMC, SGLD, CyclicalSchedule, PreconditionedSGLD, SampleCollector

N, D, SIGMA, DELTA, CHAINS = 200, 3, 0.5, 1.0, 1000


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.cat(
        [torch.randn(N, D - 1, generator=g, dtype=torch.float64), torch.ones(N, 1, dtype=torch.float64)], 1
    )
    y = x @ torch.tensor([1.0, -0.5, 0.3], dtype=torch.float64) + SIGMA * torch.randn(
        N, generator=g, dtype=torch.float64
    )
    precision = x.T @ x / SIGMA**2 + DELTA * torch.eye(D, dtype=torch.float64)
    cov = torch.linalg.inv(precision)
    return x, y, cov @ (x.T @ y) / SIGMA**2, cov, precision / N


def _mean_loss(theta, x, y):
    """Sum over chains of each chain's mean Gaussian NLL per example (up to a constant)."""
    return ((y - theta @ x.T) ** 2).mean(-1).sum() / (2 * SIGMA**2)


def _run(sampler_cls, lr, steps, batch=None, **kwargs):
    x, y, *_ = _data()
    theta = torch.nn.Parameter(torch.zeros(CHAINS, D, dtype=torch.float64))
    g = torch.Generator().manual_seed(1)
    sampler = sampler_cls([theta], lr=lr, num_data=N, prior_precision=DELTA, generator=g, **kwargs)
    for _ in range(steps):
        sampler.zero_grad()
        if batch is None:
            _mean_loss(theta, x, y).backward()
        else:  # every chain draws its own minibatch, so that the chains stay independent
            idx = torch.randint(0, N, (CHAINS, batch), generator=g)
            residual = y[idx] - torch.einsum("cbd,cd->cb", x[idx], theta)
            ((residual**2).mean(-1).sum() / (2 * SIGMA**2)).backward()
        sampler.step()
    return theta.detach()


def _assert_law(draws, mean, cov):
    n = len(draws)
    emp_mean = draws.mean(0)
    centred = draws - emp_mean
    emp_cov = centred.T @ centred / (n - 1)
    assert bool(((emp_mean - mean).abs() < 5 * torch.sqrt(torch.diagonal(cov) / n)).all()), (emp_mean, mean)
    sd = torch.sqrt((torch.outer(torch.diagonal(cov), torch.diagonal(cov)) + cov**2) / n)
    assert bool(((emp_cov - cov).abs() < 5 * sd).all()), (emp_cov, cov)


def _eigen(h_bar):
    values, vectors = torch.linalg.eigh(h_bar)
    return values, vectors


def test_sgld_full_batch_draws_follow_the_exact_langevin_stationary_law():
    _, _, mean, cov, h_bar = _data()
    values, vectors = _eigen(h_bar)
    lr = 0.05 / float(values.max())  # lr h_max = 0.05: the variance inflation is at most 2.6%
    relaxation = 1.0 / (lr * float(values.min()))
    draws = _run(SGLD, lr, steps=int(12 * relaxation))  # e^-12 of the start remains
    stationary = (vectors / (N * values * (1 - lr * values / 2))) @ vectors.T
    _assert_law(draws, mean, stationary)
    assert torch.allclose(stationary, cov, rtol=0.03, atol=0)  # the discretisation bias at this step size


def _sghmc_stationary(lr, alpha, values, vectors):
    """Per eigen-direction, z' = A z + w for z = (theta, v): solve Sigma = A Sigma A^T + Q."""
    variances = []
    for h in values.tolist():
        a = np.array(
            [[1 - lr * h, 1 - alpha], [-lr * h, 1 - alpha]]
        )  # theta' = theta + v', v' = (1-a) v - lr h theta + w
        q_v = 2 * alpha * lr / N
        q = np.array([[q_v, q_v], [q_v, q_v]])
        variances.append(scipy.linalg.solve_discrete_lyapunov(a, q)[0, 0])
    return (vectors * torch.tensor(variances, dtype=torch.float64)) @ vectors.T


def test_sghmc_full_batch_draws_follow_the_exact_discrete_stationary_law():
    _, _, mean, cov, h_bar = _data()
    values, vectors = _eigen(h_bar)
    alpha = 0.2
    lr = 0.01 / float(values.max())
    draws = _run(SGHMC, lr, steps=int(20 * alpha / (lr * float(values.min()))), friction=alpha)
    stationary = _sghmc_stationary(lr, alpha, values, vectors)
    _assert_law(draws, mean, stationary)
    assert torch.allclose(stationary, cov, rtol=0.05, atol=0)


@pytest.mark.parametrize(
    "sampler_cls,lr_scale,kwargs",
    [(SGLD, 0.01, {}), (SGHMC, 0.01, {"friction": 0.2}), (PreconditionedSGLD, None, {"beta": 0.999})],
)
def test_minibatch_samplers_keep_the_posterior_mean_and_a_bounded_variance_inflation(
    sampler_cls, lr_scale, kwargs
):
    # Minibatch gradients are unbiased and the model is linear, so the stationary mean is still the posterior mean
    # (checked to 5 sd of the chains' mean, with the sd of a variance up to 1.5x the posterior's). The gradient noise
    # adds variance of first order lr N Var(g_B) / (2 friction) to the injected noise (SGHMC with beta-hat = 0, Chen
    # et al. 2014, section 3.2): a few per cent for SGLD, 15-20% for SGHMC at friction 0.2 with batches of 20. The
    # variance must lie between the posterior's (less 5 sd) and 1.5 times it.
    _, _, mean, cov, h_bar = _data()
    values, _ = _eigen(h_bar)
    lr = lr_scale / float(values.max()) if lr_scale is not None else 3e-3
    steps = int(12 / (lr * float(values.min()))) if lr_scale is not None else 2000
    draws = _run(sampler_cls, lr, steps, batch=20, **kwargs)
    n, var = len(draws), torch.diagonal(cov)
    assert bool(((draws.mean(0) - mean).abs() < 5 * torch.sqrt(1.5 * var / n)).all()), draws.mean(0) - mean
    ratio = draws.var(0) / var
    var_sd = math.sqrt(2 / (n - 1)) * 1.5  # sd of a sample variance ratio of Gaussian draws, at the upper end
    assert bool((ratio > 1 - 5 * var_sd).all()) and bool((ratio < 1.5).all()), ratio


def test_cold_posterior_temperature_scales_the_covariance():
    _, _, mean, cov, h_bar = _data()
    values, vectors = _eigen(h_bar)
    lr, t = 0.05 / float(values.max()), 0.25
    x, y, *_ = _data()
    theta = torch.nn.Parameter(torch.zeros(CHAINS, D, dtype=torch.float64))
    sampler = SGLD(
        [theta],
        lr=lr,
        num_data=N,
        prior_precision=DELTA,
        temperature=t,
        generator=torch.Generator().manual_seed(2),
    )
    for _ in range(int(12 / (lr * float(values.min())))):
        sampler.zero_grad()
        _mean_loss(theta, x, y).backward()
        sampler.step()
    stationary = t * (vectors / (N * values * (1 - lr * values / 2))) @ vectors.T
    _assert_law(theta.detach(), mean, stationary)


def test_cyclical_schedule_and_collector_take_draws_only_in_sampling_stages():
    theta = torch.nn.Parameter(torch.zeros(2))
    module = torch.nn.Module()
    module.theta = theta
    sampler = SGHMC([theta], lr=0.1, num_data=10, friction=0.5)
    schedule = CyclicalSchedule(sampler, total_steps=100, num_cycles=4, exploration=0.8)
    collector = SampleCollector(module, burn_in=0, thin=1, schedule=schedule)
    lrs, noise = [], []
    for _ in range(100):
        lrs.append(sampler.param_groups[0]["lr"])
        noise.append(sampler.param_groups[0]["noise"])
        theta.grad = theta.detach().clone()
        sampler.step()
        collector.after_step()
    assert lrs[0] == pytest.approx(0.1) and lrs[25] == pytest.approx(0.1)  # restarts every 25 steps
    assert lrs[12] == pytest.approx(0.05 * (math.cos(math.pi * 12 / 25) + 1))
    assert noise[:20] == [False] * 20 and noise[20:25] == [True] * 5
    assert len(collector.draws) == 4 * 5  # the last 20% of each of the 4 cycles


def test_a_diverging_chain_is_detected_and_bad_arguments_are_refused():
    with pytest.raises(InputError, match="diverged.*reduce it"):
        _run(SGLD, lr=50.0, steps=200)
    theta = torch.nn.Parameter(torch.zeros(2))
    for bad in (
        {"lr": -1.0},
        {"lr": float("nan")},
        {"num_data": 0},
        {"temperature": 0.0},
        {"prior_precision": -1.0},
    ):
        with pytest.raises(InputError):
            SGLD([theta], **{"lr": 0.1, "num_data": 10, **bad})
    with pytest.raises(InputError, match="friction"):
        SGHMC([theta], lr=0.1, num_data=10, friction=0.0)
    assert SGLD([theta], lr=np.float32(0.1), num_data=np.int64(10)).defaults["lr"] == np.float32(
        0.1
    )  # NumPy scalars are reals
