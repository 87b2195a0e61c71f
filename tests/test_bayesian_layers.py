import pytest
import torch
from stats_testing import z_bound

from bayesdl.errors import InputError
from bayesdl.nn.bayesian_layers import (
    BayesianConv2d,
    BayesianLinear,
    _FusedLocalReparamLinear,
    _softplus_with_slope,
    total_kl,
)
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
def test_linear_output_moments_match_the_weight_distribution(estimator, seed):
    torch.manual_seed(seed(0))
    layer = BayesianLinear(4, 3, estimator=estimator, posterior_std_init=0.3)
    x = torch.randn(2, 4)
    with torch.no_grad():
        mean, var = _exact_linear_moments(layer, x)
        n = 4000
        if (
            estimator != "local_reparam"
        ):  # the weight (or flipout perturbation and bias) draw is shared within a call
            draws = torch.stack([layer(x) for _ in range(n)])
        else:  # examples in a batch get independent draws: repeat the inputs
            draws = layer(x.repeat(n, 1)).reshape(n, 2, 3)
    m, v = draws.mean(0), draws.var(0)
    # the outputs are Gaussian: the mean of n draws has sd sqrt(var / n), the sample variance has relative
    # sd sqrt(2 / n) (0.022 here); 12 checks at z = 5.2: false-failure rate 1e-5 in all
    z = z_bound(tests=2 * m.numel())
    assert bool(((m - mean).abs() <= z * (var / n).sqrt()).all())
    assert bool(((v / var - 1).abs() <= z * (2 / n) ** 0.5).all()), v / var - 1


def test_flipout_and_local_reparam_match_reparam_in_distribution_for_conv(seed):
    torch.manual_seed(seed(1))
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
        # two independent sets of 3000 Gaussian draws per output (75 outputs, 2 estimators, 2 checks each):
        # the difference of means has sd sqrt((v1 + v2) / n), the log variance ratio sd sqrt(4 / n)
        z, n = z_bound(tests=4 * mean.numel()), 3000
        assert bool(((mean - ref_mean).abs() <= z * ((var + ref_var) / n).sqrt()).all()), estimator
        assert bool(((var / ref_var).log().abs() <= z * (4 / n) ** 0.5).all()), estimator


def test_flipout_examples_in_a_batch_are_decorrelated(seed):
    torch.manual_seed(seed(2))
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
    # flipout: only the bias is shared (sigma_b^2 of 5.25 sigma^2, so corr ~0.19; its sd is ~0.02 for 2000 draws)
    assert float(corr) < 0.5


def test_fused_local_reparam_gradients_are_exact():
    torch.manual_seed(0)
    args = [
        torch.randn(5, 3, dtype=torch.float64, requires_grad=True),
        torch.randn(4, 3, dtype=torch.float64, requires_grad=True),
        torch.randn(4, 3, dtype=torch.float64, requires_grad=True),
        torch.randn(4, dtype=torch.float64, requires_grad=True),
        torch.randn(4, dtype=torch.float64, requires_grad=True),
    ]

    def fn(*a):
        torch.manual_seed(3)
        return _FusedLocalReparamLinear.apply(*a, 0.6)

    assert torch.autograd.gradcheck(fn, tuple(args))


def test_fast_softplus_and_slope_match_torch_from_tiny_to_large_rho():
    rho = torch.cat(
        [torch.linspace(-40.0, 30.0, 20001), torch.tensor([-3.0, 0.0, 1e-4, 19.9])]
    )  # > 8192: the fast path
    sigma, slope = _softplus_with_slope(rho[rho <= 19.9])
    exact = torch.nn.functional.softplus(rho[rho <= 19.9].double())
    assert (
        (sigma.double() - exact).abs() / exact
    ).max() < 3e-7  # a few float32 ulps, even where 1 + e^rho rounds to 1
    assert torch.allclose(slope.double(), torch.sigmoid(rho[rho <= 19.9].double()), rtol=3e-7, atol=0)
    big, big_slope = _softplus_with_slope(rho)  # rho > 20 somewhere: torch's softplus, no overflow
    assert torch.isfinite(big).all() and torch.allclose(
        big[-20000:], torch.nn.functional.softplus(rho[-20000:])
    )


@pytest.mark.parametrize("precision,tol", [("fp32", 1e-4), ("bf16_variance", 0.03), ("bf16", 0.03)])
def test_fused_gradients_match_autograd_in_every_matmul_precision(precision, tol):
    # The generic autograd path (float32) is the reference; the bfloat16 paths differ by rounding only.
    torch.manual_seed(0)
    layer = BayesianLinear(
        160, 130, prior=GaussianPrior(0.7), posterior_std_init=0.05, matmul_precision=precision
    )
    x = torch.rand(64, 160, requires_grad=True)
    upstream = torch.randn(64, 130)
    results = []
    for fused in (True, False):
        layer.prior.learnable = (
            not fused
        )  # a learnable prior forces the generic path (log_sigma stays a buffer here)
        layer.zero_grad()
        x.grad = None
        torch.manual_seed(7)
        out = layer(x)
        assert (layer._fused_kl is not None) == fused
        ((out * upstream).sum() + 3.0 * layer.kl()).backward()
        results.append([out.detach()] + [t.grad.clone() for t in (x, *layer.parameters())])
    for got, want in zip(*results):
        assert float((got - want).norm() / want.norm()) < tol


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
    fresh = GaussianPrior(1.0).kl_closed_form(layer.weight_mu, layer.weight_sigma) + GaussianPrior(
        1.0
    ).kl_closed_form(layer.bias_mu, layer.bias_sigma)
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
