import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.nn.bayesian_layers import BayesianConv2d, BayesianLinear, _FusedLocalReparamLinear, total_kl
from bayesdl.nn.priors import GaussianPrior, ScaleMixturePrior


def _moments(layer, x, n):
    with torch.no_grad():
        draws = torch.stack([layer(x) for _ in range(n)])
    return draws.mean(0), draws.var(0)


def _exact_linear_moments(layer, x):
    mean = x @ layer.weight_mu.T + layer.bias_mu
    var = x.square() @ layer.weight_sigma.square().T + layer.bias_sigma.square()
    return mean, var


@pytest.mark.parametrize("estimator", ["reparam", "local_reparam", "flipout"])
def test_linear_output_moments_match_the_weight_distribution(estimator):
    torch.manual_seed(0)
    layer = BayesianLinear(4, 3, estimator=estimator, posterior_std_init=0.3)
    x = torch.randn(2, 4)
    with torch.no_grad():
        mean, var = _exact_linear_moments(layer, x)
        n = 4000
        if estimator != "local_reparam":  # the weight (or flipout perturbation and bias) draw is shared within a call
            draws = torch.stack([layer(x) for _ in range(n)])
        else:  # examples in a batch get independent draws: repeat the inputs
            draws = layer(x.repeat(n, 1)).reshape(n, 2, 3)
    m, v = draws.mean(0), draws.var(0)
    assert torch.allclose(m, mean, atol=4 * float(var.max().sqrt()) / n**0.5)
    assert torch.allclose(v, var, rtol=0.08)


def test_flipout_and_local_reparam_match_reparam_in_distribution_for_conv():
    torch.manual_seed(1)
    base = BayesianConv2d(2, 3, 3, padding=1, estimator="reparam", posterior_std_init=0.2)
    x = torch.randn(1, 2, 5, 5)
    ref_mean, ref_var = _moments(base, x, 3000)
    for estimator in ("local_reparam", "flipout"):
        other = BayesianConv2d(2, 3, 3, padding=1, estimator=estimator, posterior_std_init=0.2)
        other.load_state_dict(base.state_dict())
        if estimator == "local_reparam":
            with torch.no_grad():
                draws = other(x.repeat(3000, 1, 1, 1))
            mean, var = draws.mean(0, keepdim=True), draws.var(0, keepdim=True)
        else:
            mean, var = _moments(other, x, 3000)
        assert (mean - ref_mean).abs().max() < 0.12
        assert ((var / ref_var) - 1).abs().max() < 0.2


def test_flipout_examples_in_a_batch_are_decorrelated():
    torch.manual_seed(2)
    layer = BayesianLinear(5, 1, estimator="flipout", posterior_std_init=0.5)
    x = torch.ones(2, 5)
    with torch.no_grad():
        draws = torch.stack([layer(x) for _ in range(2000)]).squeeze(-1)
    corr = torch.corrcoef(draws.T)[0, 1]
    reparam = BayesianLinear(5, 1, estimator="reparam", posterior_std_init=0.5)
    reparam.load_state_dict(layer.state_dict())
    with torch.no_grad():
        shared = torch.stack([reparam(x) for _ in range(2000)]).squeeze(-1)
    assert float(torch.corrcoef(shared.T)[0, 1]) > 0.99  # one weight draw per batch: identical rows
    assert float(corr) < 0.5  # flipout: only the bias is shared (sigma_b^2 of 5.25 sigma^2)


def test_fused_local_reparam_gradients_are_exact():
    torch.manual_seed(0)
    args = [torch.randn(5, 3, dtype=torch.float64, requires_grad=True), torch.randn(4, 3, dtype=torch.float64, requires_grad=True),
            torch.randn(4, 3, dtype=torch.float64, requires_grad=True), torch.randn(4, dtype=torch.float64, requires_grad=True),
            torch.randn(4, dtype=torch.float64, requires_grad=True)]
    prior_var = torch.tensor(0.6, dtype=torch.float64)

    def fn(*a):
        torch.manual_seed(3)
        return _FusedLocalReparamLinear.apply(*a, prior_var)

    assert torch.autograd.gradcheck(fn, tuple(args))


def test_fused_path_equals_generic_path():
    torch.manual_seed(0)
    layer = BayesianLinear(6, 4, prior=GaussianPrior(0.5), posterior_std_init=0.1)
    x = torch.randn(8, 6)
    torch.manual_seed(5)
    out = layer(x)
    assert layer._fused_kl is not None
    (out.sum() + layer.kl()).backward()
    fused = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    layer.prior.learnable = True  # forces the autograd path (same numbers, since log_sigma is still a buffer)
    torch.manual_seed(5)
    out2 = layer(x)
    assert layer._fused_kl is None
    (out2.sum() + layer.kl()).backward()
    assert torch.allclose(out, out2, atol=1e-5)
    for a, b in zip(fused, (p.grad for p in layer.parameters())):
        assert torch.allclose(a, b, atol=1e-4)


def test_stale_fused_kl_is_not_reused_after_an_update():
    layer = BayesianLinear(3, 2)
    layer(torch.randn(4, 3))
    with torch.no_grad():
        layer.weight_mu.add_(1.0)
    fresh = GaussianPrior(1.0).kl_closed_form(layer.weight_mu, layer.weight_sigma) + GaussianPrior(1.0).kl_closed_form(layer.bias_mu, layer.bias_sigma)
    assert torch.allclose(layer.kl(), fresh)


def test_mixture_prior_layer_uses_monte_carlo_kl_and_trains():
    layer = BayesianLinear(3, 2, prior=ScaleMixturePrior(), estimator="reparam")
    kl = total_kl(layer)
    kl.backward()
    assert layer.weight_rho.grad is not None and torch.isfinite(kl)


def test_bad_estimator_and_deterministic_mode():
    with pytest.raises(InputError, match="estimator"):
        BayesianLinear(3, 2, estimator="bogus")
    layer = BayesianLinear(3, 2)
    layer.sample = False
    x = torch.randn(4, 3)
    assert torch.equal(layer(x), layer(x))
    with pytest.raises(InputError, match="Bayesian layers"):
        total_kl(torch.nn.Linear(2, 2))
