import math

import pytest
import torch
from stats_testing import z_bound

from bayesdl.errors import InputError
from bayesdl.nn.priors import GaussianPrior, ScaleMixturePrior, kl_divergence


def test_gaussian_closed_form_kl_matches_monte_carlo_kl(seed):
    gen = torch.Generator().manual_seed(seed(0))
    mu = torch.randn(20, generator=gen)
    sigma = torch.rand(20, generator=gen) * 0.5 + 0.1
    prior = GaussianPrior(0.7)
    closed = prior.kl_closed_form(mu, sigma)
    torch.manual_seed(seed(1))
    eps = torch.randn(20000, 20)
    w = mu + sigma * eps
    log_q = torch.distributions.Normal(mu, sigma).log_prob(w).sum(1)
    log_p = torch.distributions.Normal(0.0, 0.7).log_prob(w).sum(1)
    mc = log_q - log_p
    assert abs(float(closed) - float(mc.mean())) < z_bound() * float(mc.std()) / math.sqrt(len(mc))
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 0.7)
    ).sum()
    assert torch.allclose(closed, reference, atol=1e-4)


def test_kl_divergence_falls_back_to_unbiased_monte_carlo_for_the_mixture(seed):
    prior = ScaleMixturePrior(pi=0.3, sigma1=1.0, sigma2=0.05)
    mu, sigma = torch.tensor([0.2, -0.5, 0.0]), torch.tensor([0.1, 0.3, 0.02])
    assert prior.kl_closed_form(mu, sigma) is None
    torch.manual_seed(seed(0))
    # each call on 200 stacked copies returns 200 times the mean of 200 one-draw estimates
    draws = torch.stack(
        [kl_divergence(prior, mu.repeat(200, 1), sigma.repeat(200, 1)) / 200 for _ in range(50)]
    )
    # reference: numerical integration of q log(q/p) per coordinate on a fine grid
    ref = 0.0
    for m, s in zip(mu.tolist(), sigma.tolist()):
        grid = torch.linspace(m - 10 * s, m + 10 * s, 20001, dtype=torch.float64)
        q = torch.distributions.Normal(torch.tensor(m, dtype=torch.float64), s)
        p = torch.log(
            0.3 * torch.exp(torch.distributions.Normal(0.0, 1.0).log_prob(grid))
            + 0.7 * torch.exp(torch.distributions.Normal(0.0, 0.05).log_prob(grid))
        )
        ref += float(torch.trapezoid(q.log_prob(grid).exp() * (q.log_prob(grid) - p), grid))
    assert abs(float(draws.mean()) - ref) < z_bound() * float(draws.std()) / math.sqrt(len(draws))


def test_mixture_log_prob_matches_torch_mixture():
    prior = ScaleMixturePrior(pi=0.25, sigma1=1.5, sigma2=0.1)
    w = torch.randn(50)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.tensor([0.25, 0.75])),
        torch.distributions.Normal(torch.zeros(2), torch.tensor([1.5, 0.1])),
    )
    assert torch.allclose(prior.log_prob(w), mix.log_prob(w).sum(), atol=1e-4)


@pytest.mark.parametrize("pi", [0.0, 1.0, -0.1, 1.5])
def test_mixture_weight_must_be_strictly_inside_unit_interval(pi):
    with pytest.raises(InputError, match="pi"):
        ScaleMixturePrior(pi=pi)


def test_learnable_prior_scale_receives_gradient():
    prior = GaussianPrior(1.0, learnable=True)
    prior.kl_closed_form(torch.zeros(3), torch.ones(3) * 0.1).backward()
    assert (
        prior.log_sigma.grad is not None and float(prior.log_sigma.grad) > 0
    )  # KL shrinks when the prior narrows
    with pytest.raises(InputError, match="sigma"):
        GaussianPrior(-1.0)


def test_a_prior_scale_may_be_a_one_element_tensor_and_must_be_positive():
    assert GaussianPrior(torch.tensor(2.0)).sigma == 2.0
    assert (
        ScaleMixturePrior(sigma1=torch.tensor([1.5]), sigma2=torch.tensor(0.1, dtype=torch.float64)).sigma1
        == 1.5
    )
    for bad in (torch.tensor(-1.0), torch.tensor(float("nan")), torch.ones(2), float("inf"), "1.0", True):
        with pytest.raises(InputError, match="sigma must be a finite number > 0"):
            GaussianPrior(bad)
