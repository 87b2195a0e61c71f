"""The output heads of bayesdl.nn.heads: normalisation, agreement with torch distributions, data checks, the
one factory and its vocabulary, the deprecated old names, and the registry keys that old files store."""

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from stats_testing import FALSE_FAILURE_RATE

from bayesdl.densities import normal_log_prob
from bayesdl.errors import InputError
from bayesdl.io.registry import class_key
from bayesdl.nn.heads import (
    BernoulliHead,
    CategoricalHead,
    DiscretizedLogisticMixture,
    GaussianHead,
    HeadName,
    HeteroscedasticGaussianHead,
    HomoscedasticGaussianHead,
    LevelsHead,
    log_sigmoid_difference,
    make_head,
)


def test_logistic_mixture_over_256_levels_sums_to_one_even_for_extreme_scales():
    head = DiscretizedLogisticMixture(num_components=3, num_levels=256)
    torch.manual_seed(0)
    params = torch.randn(5, 9, 1) * 2
    params[:, 6:] = torch.tensor([-6.5, 0.0, 4.0])[:, None]  # log-scales: very sharp, unit, very wide
    levels = torch.arange(256.0)
    log_p = torch.stack(
        [head.log_prob_elements(params, torch.full((5, 1), v), 1) for v in levels]
    )  # [256, 5, 1]
    assert torch.allclose(torch.logsumexp(log_p, 0).exp(), torch.ones(5, 1), atol=1e-4)
    # its distribution is the categorical over the same 256 probabilities
    d = head.distribution(params, 1)
    assert torch.allclose(
        d.log_prob(torch.full((5, 1), 7.0)), head.log_prob(params, torch.full((5, 1), 7.0), 1), atol=1e-5
    )


def test_log_sigmoid_difference_is_accurate_in_both_tails():
    upper = torch.tensor([-30.0, -5.0, 0.01, 5.0, 25.0, 40.0])
    lower = upper - 0.01
    u, lo = upper.double().numpy(), lower.double().numpy()
    # sigma(u) - sigma(l) = (e^-l - e^-u) / ((1 + e^-u)(1 + e^-l)), exact enough in float64 at these values
    exact = np.log(np.exp(-lo) - np.exp(-u)) - np.log1p(np.exp(-u)) - np.log1p(np.exp(-lo))
    got = log_sigmoid_difference(upper, lower).double().numpy()
    assert np.allclose(got, exact, rtol=1e-4)


@pytest.mark.parametrize("head", [LevelsHead(5), DiscretizedLogisticMixture(2, 5)])
def test_samples_follow_the_probabilities(head, seed):
    torch.manual_seed(1)
    params = torch.randn(1, head.num_params, 1).expand(20000, -1, -1)
    g = torch.Generator().manual_seed(seed(0))
    draws = head.sample(params, 1, g)[:, 0].long()
    probs = (
        torch.stack([head.log_prob(params[:1], torch.full((1, 1), float(v)), 1) for v in range(5)])
        .exp()
        .flatten()
    )
    counts = np.bincount(draws.numpy(), minlength=5).astype(float)
    expected = probs.double().numpy()
    assert chisquare(counts, expected / expected.sum() * counts.sum()).pvalue > FALSE_FAILURE_RATE


def _cases():
    torch.manual_seed(3)
    return [
        (BernoulliHead(), torch.randn(2, 4, 1, 3, 5), torch.randint(0, 2, (4, 3, 5)).float()),
        (LevelsHead(7), torch.randn(2, 4, 7, 3, 5), torch.randint(0, 7, (4, 3, 5)).float()),
        (GaussianHead(), torch.randn(2, 4, 2, 3, 5), torch.randn(4, 3, 5)),
        (GaussianHead(scale=0.7), torch.randn(2, 4, 1, 3, 5), torch.randn(4, 3, 5)),
        (GaussianHead(scale="log_std"), torch.randn(2, 4, 2, 3, 5), torch.randn(4, 3, 5)),
        (GaussianHead(scale="log_var"), torch.randn(2, 4, 2, 3, 5), torch.randn(4, 3, 5)),
    ]


@pytest.mark.parametrize("case", range(6))
def test_log_prob_equals_the_distribution_and_broadcasts_over_samples(case):
    head, params, x = _cases()[case]
    d = head.distribution(params, 2)
    assert d.batch_shape == (2, 4) and d.event_shape == (3, 5)
    direct = head.log_prob(params, x, 2)
    assert direct.shape == (2, 4)
    assert torch.allclose(direct, d.log_prob(x), rtol=1e-5, atol=1e-5)
    assert torch.allclose(head.log_prob_elements(params, x, 2).sum((-2, -1)), direct, rtol=1e-6, atol=1e-5)


def test_gaussian_scale_outputs_match_torch_normal():
    mean, raw, y = torch.randn(6), torch.randn(6), torch.randn(6)
    params = torch.stack([mean, raw], -1)  # [B, 2]: one target per example
    for head, std in (
        (GaussianHead(scale="log_std"), raw.exp()),
        (GaussianHead(scale="log_var"), (0.5 * raw).exp()),
        (GaussianHead(min_scale=0.01), 0.01 + torch.nn.functional.softplus(raw)),
    ):
        expected = torch.distributions.Normal(mean, std).log_prob(y)
        assert torch.allclose(head.log_prob(params, y, 0), expected, atol=1e-5)
    assert torch.allclose(
        normal_log_prob(y, mean, 2 * raw), torch.distributions.Normal(mean, raw.exp()).log_prob(y), atol=1e-5
    )


def test_supervised_heads_nll():
    outputs = torch.tensor([[1.0, 0.0, -1.0]])
    nll = CategoricalHead(3).nll(outputs, torch.tensor([0]))
    assert torch.allclose(nll, -outputs.log_softmax(-1)[:, 0])
    out = torch.tensor([[0.5, math.log(4.0)]])
    expected = -torch.distributions.Normal(0.5, 2.0).log_prob(torch.tensor([1.5]))
    assert torch.allclose(HeteroscedasticGaussianHead().nll(out, torch.tensor([1.5])), expected)
    head = HomoscedasticGaussianHead(2.0, learnable=False)
    assert torch.allclose(head.nll(out[:, :1], torch.tensor([1.5])), expected)
    with pytest.raises(InputError, match="outputs"):
        head.nll(out, torch.tensor([1.5]))


def test_data_checks_name_the_argument():
    with pytest.raises(InputError, match="x must be binary"):
        BernoulliHead().check(torch.tensor([0.0, 0.5]), "x")
    with pytest.raises(InputError, match="integer levels"):
        LevelsHead(4).check(torch.tensor([0.5]), "x")
    with pytest.raises(InputError, match="0..3"):
        LevelsHead(4).check(torch.tensor([4.0]), "x")
    LevelsHead(4).check(torch.tensor([3.0]), "x")  # levels may be floats holding integers
    with pytest.raises(InputError, match="integer class labels"):
        CategoricalHead(4).check(torch.tensor([1.0]))  # class labels may not
    with pytest.raises(InputError, match="class labels in 0..3"):
        CategoricalHead(4).check(torch.tensor([4]))
    with pytest.raises(InputError, match="NaN"):
        GaussianHead().check(torch.tensor([float("nan")]))


def test_make_head_vocabulary():
    assert type(make_head("levels", num_levels=4)) is LevelsHead
    assert (
        type(make_head(HeadName.CATEGORICAL, num_outputs=3)) is CategoricalHead
    )  # "categorical" = class labels
    assert make_head("logistic_mixture", num_levels=16, num_components=3).num_params == 9
    assert make_head("gaussian", scale=0.5).num_params == 1
    with pytest.raises(InputError, match="likelihood"):
        make_head("poisson")
    with pytest.raises(InputError, match="GP likelihood"):
        make_head("probit")
    with pytest.raises(InputError, match="2 output"):
        make_head("heteroscedastic", num_outputs=3)
    with pytest.raises(InputError, match="num_classes"):
        make_head("categorical")


def test_registry_keys_are_the_ones_old_files_store():
    assert class_key(BernoulliHead) == "BernoulliLikelihood"
    assert class_key(LevelsHead) == "VAECategoricalLikelihood"
    assert class_key(GaussianHead) == "GaussianLikelihood"
    assert class_key(CategoricalHead) == "CategoricalLikelihood"
    assert class_key(HeteroscedasticGaussianHead) == "HeteroscedasticGaussian"
    assert class_key(HomoscedasticGaussianHead) == "HomoscedasticGaussian"
    assert GaussianHead(scale=None).config == {"scale": None, "min_scale": 1e-3}  # an old VAE file's config


def test_old_names_still_work_with_a_warning():
    import bayesdl.models.autoregressive as ar
    from bayesdl.models import likelihoods as supervised
    from bayesdl.models.vae import likelihoods as vae

    with pytest.warns(DeprecationWarning, match="bayesdl.nn.heads.LevelsHead"):
        assert ar.CategoricalOutput is LevelsHead
    with pytest.warns(DeprecationWarning, match="make_head"):
        assert ar.make_likelihood("categorical", num_levels=4).num_params == 4
    with pytest.warns(DeprecationWarning, match="make_head"):
        assert type(supervised.make_likelihood("categorical", 3)) is CategoricalHead
    with pytest.warns(DeprecationWarning, match="make_head"):
        assert type(vae.make_likelihood("levels")) is LevelsHead
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaussian = ar.GaussianOutput()
    assert gaussian.scale_output == "log_std"
    with pytest.warns(
        DeprecationWarning, match="LevelsHead"
    ):  # pixel levels, not classes: the old name misled
        assert vae.CategoricalLikelihood is LevelsHead
    assert supervised.CategoricalLikelihood is CategoricalHead
