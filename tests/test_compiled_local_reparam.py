import pytest
import torch

from bayesdl.models.bnn_bbb import BayesByBackprop
from bayesdl.models.nets import MLP
from bayesdl.nn.bayesian_layers import BayesianLinear
from bayesdl.nn.priors import GaussianPrior
from bayesdl.ops.compiled_local_reparam import (
    CompiledCategoricalStep,
    CompiledLocalReparamStack,
    _softplus_and_slope,
)


@pytest.mark.parametrize("widths", [(3, 4), (3, 4, 2, 3)])
def test_hand_written_backward_matches_finite_differences(widths):
    # one layer, and three layers with ReLU between them (the pure functions run eagerly here), in float64
    torch.manual_seed(0)
    x = torch.randn(5, widths[0], dtype=torch.float64, requires_grad=True)
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        params += [
            torch.randn(fan_out, fan_in, dtype=torch.float64),
            torch.randn(fan_out, fan_in, dtype=torch.float64),
            torch.randn(fan_out, dtype=torch.float64),
            torch.randn(fan_out, dtype=torch.float64),
        ]
    params = [p.requires_grad_() for p in params]
    prior_vars = tuple(0.6 + 0.1 * k for k in range(len(widths) - 1))
    lows = ((False, False),) * len(prior_vars)

    def fn(*a):
        torch.manual_seed(3)
        return CompiledLocalReparamStack.apply(a[0], prior_vars, lows, False, *a[1:])

    assert torch.autograd.gradcheck(fn, (x, *params))


def test_softplus_and_slope_are_accurate_from_tiny_to_huge_rho():
    rho = torch.cat([torch.linspace(-40.0, 30.0, 20001), torch.tensor([95.0, 200.0])])
    sigma, slope = _softplus_and_slope(rho)
    exact = torch.nn.functional.softplus(rho.double())
    assert (
        (sigma.double() - exact).abs() / exact
    ).max() < 3e-7  # a few float32 ulps, even where 1 + e^rho rounds to 1
    assert torch.allclose(slope.double(), torch.sigmoid(rho.double()), rtol=3e-7, atol=0)


def _loss_and_grads(model, x, y, seed):
    model.zero_grad()
    torch.manual_seed(seed)
    loss = model.loss(x, y, num_data=1000)
    loss.backward()
    return [loss.detach()] + [p.grad.clone() for p in model.parameters()]


def test_compiled_step_equals_the_default_layer_by_layer_path():
    # same draws -> the same loss and gradients as the default path. With matmul_precision="bf16" the 130 -> 128
    # layer runs its products in bfloat16 and the narrow ones in float32, so one compilation covers both branches.
    torch.manual_seed(0)
    model = BayesByBackprop(
        MLP(12, [130, 128], 3),
        prior=GaussianPrior(0.8),
        posterior_std_init=0.05,
        compile=True,
        matmul_precision="bf16",
    )
    x, y = torch.rand(8, 12), torch.randint(0, 3, (8,))
    assert model._compiled_stack(x)[1] == ((False, False), (True, True), (False, False))
    compiled = _loss_and_grads(model, x, y, seed=5)
    model.compile_step = False
    default = _loss_and_grads(model, x, y, seed=5)
    for got, want in zip(compiled, default):
        assert got.device == x.device
        assert float((got - want).norm() / want.norm()) < 1e-5


def test_one_call_categorical_step_equals_autograd_of_the_stack_and_the_regression_path_too():
    # the categorical loss and its gradients in one function (run eagerly here; the test above compiles it)
    torch.manual_seed(0)
    model = BayesByBackprop(
        MLP(5, [7, 6], 4), prior=GaussianPrior(0.7), posterior_std_init=0.05, compile=True
    )
    x, y = torch.rand(9, 5), torch.randint(0, 4, (9,))
    prior_vars, lows, _, *params = model._compiled_stack(x)
    scale = torch.tensor(0.25)
    model.zero_grad()
    torch.manual_seed(2)
    one_call = CompiledCategoricalStep.apply(x, y, prior_vars, lows, scale, False, *params)
    (3.0 * one_call).backward()  # an outer factor reaches the gradients
    got = [one_call.detach()] + [p.grad.clone() for p in params]
    model.zero_grad()
    torch.manual_seed(2)
    out, kl = CompiledLocalReparamStack.apply(x, prior_vars, lows, False, *params)
    reference = torch.nn.functional.cross_entropy(out, y) + scale * kl
    (3.0 * reference).backward()
    for a, b in zip(got, [reference.detach()] + [p.grad for p in params]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    # a regression likelihood keeps the two-function path: same loss and gradients as the default path
    reg = BayesByBackprop(MLP(5, [7], 2), likelihood="heteroscedastic", posterior_std_init=0.05, compile=True)
    target = torch.randn(9)
    reg._compiled_stack = lambda inp, compiled=False, f=reg._compiled_stack: f(inp, compiled=False)
    runs = []
    for compile_step in (True, False):
        reg.compile_step = compile_step
        runs.append(_loss_and_grads(reg, x, target, seed=4))
    for a, b in zip(*runs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_compiled_path_is_used_only_for_plain_relu_stacks_with_gradients():
    x = torch.randn(5, 4)
    plain = BayesByBackprop(MLP(4, [8, 8], 3), compile=True)
    assert len(plain._compiled_stack(x)[0]) == 3 and plain.config["compile"] is True
    with torch.no_grad():
        assert plain._compiled_stack(x) is None
    for net in (MLP(4, [8], 3, dropout=0.1), MLP(4, [8], 3, activation="tanh"), MLP(4, [8], 3, norm="layer")):
        assert BayesByBackprop(net, compile=True)._compiled_stack(x) is None
    assert BayesByBackprop(MLP(4, [8], 3), estimator="flipout", compile=True)._compiled_stack(x) is None
    learnable = BayesByBackprop(MLP(4, [8], 3), prior=GaussianPrior(1.0, learnable=True), compile=True)
    assert learnable._compiled_stack(x) is None
    handle = plain.net.layers[0].register_forward_hook(lambda *args: None)
    assert plain._compiled_stack(x) is None
    handle.remove()
    assert isinstance(plain.net.layers[0], BayesianLinear) and plain._compiled_stack(x) is not None
