import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from stats_testing import FALSE_FAILURE_RATE

from bayesdl.errors import InputError
from bayesdl.models.autoregressive import CategoricalOutput, DiscretizedLogisticMixture, make_likelihood
from bayesdl.models.autoregressive.likelihoods import _log_sigmoid_difference


def test_logistic_mixture_over_256_levels_sums_to_one_even_for_extreme_scales():
    lik = DiscretizedLogisticMixture(num_components=3, num_levels=256)
    torch.manual_seed(0)
    params = torch.randn(5, 9, 1) * 2
    params[:, 6:] = torch.tensor([-6.5, 0.0, 4.0])[:, None]  # log-scales: very sharp, unit, very wide
    levels = torch.arange(256.0)
    log_p = torch.stack([lik.log_prob(params, torch.full((5, 1), v)) for v in levels])  # [256, 5, 1]
    assert torch.allclose(torch.logsumexp(log_p, 0).exp(), torch.ones(5, 1), atol=1e-4)


def test_log_sigmoid_difference_is_accurate_in_both_tails():
    upper = torch.tensor([-30.0, -5.0, 0.01, 5.0, 25.0, 40.0])
    lower = upper - 0.01
    u, lo = upper.double().numpy(), lower.double().numpy()
    # sigma(u) - sigma(l) = (e^-l - e^-u) / ((1 + e^-u)(1 + e^-l)), exact enough in float64 at these values
    exact = np.log(np.exp(-lo) - np.exp(-u)) - np.log1p(np.exp(-u)) - np.log1p(np.exp(-lo))
    got = _log_sigmoid_difference(upper, lower).double().numpy()
    assert np.allclose(got, exact, rtol=1e-4)


@pytest.mark.parametrize("lik", [CategoricalOutput(5), DiscretizedLogisticMixture(2, 5)])
def test_samples_follow_the_probabilities(lik, seed):
    torch.manual_seed(1)
    params = torch.randn(1, lik.num_params, 1).expand(20000, -1, -1)
    g = torch.Generator().manual_seed(seed(0))
    draws = lik.sample(params, g)[:, 0].long()
    probs = torch.stack([lik.log_prob(params[:1], torch.full((1, 1), float(v))) for v in range(5)]).exp().flatten()
    counts = np.bincount(draws.numpy(), minlength=5).astype(float)
    expected = probs.double().numpy()
    assert chisquare(counts, expected / expected.sum() * counts.sum()).pvalue > FALSE_FAILURE_RATE


def test_unknown_likelihood_and_bad_levels():
    with pytest.raises(InputError, match="likelihood"):
        make_likelihood("poisson")
    with pytest.raises(InputError, match="integer"):
        CategoricalOutput(4).check(torch.tensor([0.5]), "x")
