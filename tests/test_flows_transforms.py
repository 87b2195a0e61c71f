"""Exactness tests for every flow transform: numerical-Jacobian log-dets and round trips."""

from __future__ import annotations

import pytest
import torch
from flows_testing import randomise

from bayesdl.errors import InputError
from bayesdl.nn.flows import (
    ActNorm,
    AffineCoupling,
    ConvConditioner,
    FactorOut,
    Flatten,
    FlowSequence,
    InverseAutoregressive,
    InvertibleConv1x1,
    Logit,
    LULinear,
    MaskedAffineAutoregressive,
    MLPConditioner,
    Permutation,
    Planar,
    Radial,
    Squeeze,
    alternating_mask,
    channel_mask,
    checkerboard_mask,
    random_mask,
)


@pytest.fixture(autouse=True)
def _seeded():
    """Network initialisations draw from torch's global RNG: seed it so every test is deterministic."""
    torch.manual_seed(0)


# name -> (factory, event shape, context size, input range)
CASES = {
    "coupling-alternating": (
        lambda: AffineCoupling(alternating_mask(4), MLPConditioner(4, [16])),
        (4,),
        0,
        "real",
    ),
    "coupling-random": (
        lambda: AffineCoupling(random_mask(5, seed=2), MLPConditioner(5, [16])),
        (5,),
        0,
        "real",
    ),
    "coupling-conditional": (
        lambda: AffineCoupling(alternating_mask(4, 1), MLPConditioner(4, [16], context_size=3)),
        (4,),
        3,
        "real",
    ),
    "coupling-checkerboard": (
        lambda: AffineCoupling(checkerboard_mask(2, 4, 4), ConvConditioner(2, 8)),
        (2, 4, 4),
        0,
        "real",
    ),
    "coupling-channel": (
        lambda: AffineCoupling(channel_mask(4, 2, 2, 1), ConvConditioner(4, 8)),
        (4, 2, 2),
        0,
        "real",
    ),
    "coupling-channel-conditional": (
        lambda: AffineCoupling(channel_mask(4, 2, 2), ConvConditioner(4, 8, context_size=2)),
        (4, 2, 2),
        2,
        "real",
    ),
    "permutation-reverse": (lambda: Permutation.reverse(4), (4,), 0, "real"),
    "permutation-random": (lambda: Permutation.random(5, seed=1), (5,), 0, "real"),
    "lu-linear": (lambda: LULinear(4, seed=1), (4,), 0, "real"),
    "conv1x1": (lambda: InvertibleConv1x1(3, seed=2), (3, 2, 2), 0, "real"),
    "actnorm-vector": (lambda: ActNorm(3), (3,), 0, "real"),
    "actnorm-image": (lambda: ActNorm(2), (2, 2, 3), 0, "real"),
    "maf": (lambda: MaskedAffineAutoregressive(4, [16, 16]), (4,), 0, "real"),
    "maf-reversed-conditional": (
        lambda: MaskedAffineAutoregressive(4, [16], context_size=2, reverse_order=True),
        (4,),
        2,
        "real",
    ),
    "iaf": (lambda: InverseAutoregressive(4, [16, 16]), (4,), 0, "real"),
    "iaf-conditional": (
        lambda: InverseAutoregressive(3, [16], context_size=2, reverse_order=True),
        (3,),
        2,
        "real",
    ),
    "planar": (lambda: Planar(3, seed=1), (3,), 0, "real"),
    "radial": (lambda: Radial(3, seed=1), (3,), 0, "real"),
    "squeeze": (lambda: Squeeze(), (1, 4, 2), 0, "real"),
    "factor-out": (
        lambda: FactorOut((2, 2, 2), FlowSequence([ActNorm(1), Flatten((1, 2, 2))])),
        (2, 2, 2),
        0,
        "real",
    ),
    "logit": (lambda: Logit(0.05), (3,), 0, "unit"),
}


def inputs(shape, context_size, kind, batch=3, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = (
        torch.rand(batch, *shape, generator=g, dtype=dtype)
        if kind == "unit"
        else torch.randn(batch, *shape, generator=g, dtype=dtype)
    )
    context = torch.randn(batch, context_size, generator=g, dtype=dtype) if context_size else None
    return x, context


def numerical_log_det(fn, x, context):
    out = []
    for i in range(len(x)):
        ctx = None if context is None else context[i : i + 1]
        jac = torch.autograd.functional.jacobian(
            lambda v, ctx=ctx: fn(v.reshape(1, *x.shape[1:]), ctx)[0].reshape(-1), x[i].reshape(-1)
        )
        out.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(out)


@pytest.mark.parametrize("name", list(CASES))
def test_forward_log_det_equals_numerical_jacobian(name):
    factory, shape, csize, kind = CASES[name]
    t = randomise(factory()).double()
    x, context = inputs(shape, csize, kind)
    _, log_det = t(x, context)
    torch.testing.assert_close(log_det, numerical_log_det(t, x, context), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_inverse_log_det_equals_numerical_jacobian_and_negates_forward(name):
    factory, shape, csize, kind = CASES[name]
    t = randomise(factory()).double()
    x, context = inputs(shape, csize, kind)
    z, fwd = t(x, context)
    back, inv = t.inverse(z, context)
    torch.testing.assert_close(inv, -fwd, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(inv, numerical_log_det(t.inverse, z, context), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_float32(name):
    factory, shape, csize, kind = CASES[name]
    t = randomise(factory())
    x, context = inputs(shape, csize, kind, batch=64, dtype=torch.float32)
    z, _ = t(x, context)
    torch.testing.assert_close(t.inverse(z, context)[0], x, atol=1e-4, rtol=0)
    # and the other way round: forward(inverse(z)) == z
    x2, _ = t.inverse(z, context)
    torch.testing.assert_close(t(x2, context)[0], z, atol=1e-4, rtol=0)


def test_conditional_transforms_depend_on_context():
    for name in (
        "coupling-conditional",
        "coupling-channel-conditional",
        "maf-reversed-conditional",
        "iaf-conditional",
    ):
        factory, shape, csize, kind = CASES[name]
        t = randomise(factory())
        x, context = inputs(shape, csize, kind, dtype=torch.float32)
        z1, ld1 = t(x, context)
        z2, ld2 = t(x, context + 1.0)
        assert not torch.allclose(z1, z2, atol=1e-3), name
        with pytest.raises(InputError, match="context"):
            t(x)


def test_masks_have_expected_structure():
    assert alternating_mask(5).tolist() == [1, 0, 1, 0, 1]
    assert int(random_mask(6, seed=0).sum()) == 3
    board = checkerboard_mask(2, 3, 3)
    assert torch.equal(board[0], board[1]) and board[0, 0, 0] == 1 and board[0, 0, 1] == 0
    assert channel_mask(4, 2, 2)[:2].eq(1).all() and channel_mask(4, 2, 2)[2:].eq(0).all()
    with pytest.raises(InputError, match="channels"):
        channel_mask(1, 2, 2)


def test_coupling_keeps_masked_part_and_bounds_the_log_scale():
    t = randomise(AffineCoupling(alternating_mask(4), MLPConditioner(4, [16]), scale_bound=0.5), scale=20.0)
    x = torch.randn(10, 4) * 100
    z, ld = t(x)
    assert torch.equal(z[:, ::2], x[:, ::2])
    assert float(ld.detach().abs().max()) <= 2 * 0.5 + 1e-6


def test_planar_constraint_holds_for_bad_raw_parameters():
    t = Planar(2)
    with torch.no_grad():
        t.w.copy_(torch.tensor([1.0, 0.0]))
        t.u.copy_(torch.tensor([-5.0, 0.0]))  # raw w.u = -5 would make the map non-invertible
    assert float((t.w @ t.u_hat()).detach()) > -1
    z = torch.randn(100, 2)
    x, _ = t.inverse(z)
    torch.testing.assert_close(t(x)[0], z, atol=1e-4, rtol=0)


def test_radial_constraint_beta_at_least_minus_alpha():
    t = Radial(2)
    with torch.no_grad():
        t.raw_beta.fill_(-30.0)
    alpha, beta = (v.detach() for v in t.alpha_beta())
    assert float(beta) >= -float(alpha)


def test_actnorm_data_dependent_initialisation():
    norm = ActNorm(3)
    x = torch.randn(400, 3, 2, 2) * torch.tensor([1.0, 5.0, 0.2])[None, :, None, None] + 3
    z, _ = norm(x)
    dims = (0, 2, 3)
    torch.testing.assert_close(z.mean(dims), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(z.std(dims), torch.ones(3), atol=1e-3, rtol=0)
    before = norm.bias.clone()
    norm(x * 10)  # only the first batch initialises
    assert torch.equal(before, norm.bias)


def test_logit_rejects_data_outside_support():
    with pytest.raises(InputError, match="outside the support"):
        Logit(0.05)(torch.tensor([[0.5, 1.2]]))
    with pytest.raises(InputError, match="NaN"):
        Logit()(torch.tensor([[0.5, float("nan")]]))


def test_wrong_shapes_are_rejected():
    with pytest.raises(InputError, match="shape"):
        LULinear(3)(torch.randn(2, 4))
    with pytest.raises(InputError, match="even"):
        Squeeze()(torch.randn(1, 1, 3, 4))
    with pytest.raises(InputError, match="shape"):
        MaskedAffineAutoregressive(3, [8])(torch.randn(2, 5))
    with pytest.raises(InputError, match="permutation"):
        Permutation(torch.tensor([0, 0, 1]))


def test_mlp_conditioner_without_hidden_layers_is_an_input_error():
    from bayesdl.errors import InputError
    from bayesdl.nn.flows.conditioners import MLPConditioner

    with pytest.raises(InputError, match="hidden_sizes"):
        MLPConditioner(4, [])


@pytest.mark.parametrize(
    "make",
    [
        lambda p: alternating_mask(4, p),
        lambda p: checkerboard_mask(1, 2, 2, p),
        lambda p: channel_mask(2, 1, 1, p),
    ],
)
def test_mask_parity_must_be_zero_or_one(make):
    assert not torch.equal(make(0), make(1))
    for bad in (2, -1, True):
        with pytest.raises(InputError, match="parity"):
            make(bad)
