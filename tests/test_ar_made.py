import math

import pytest
import torch
from ar_testing import all_binary, chi_square_pvalue
from stats_testing import FALSE_FAILURE_RATE

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import Trainer
from bayesdl.models.autoregressive import MADE


def randomised(model: MADE, seed: int = 0, scale: float = 1.0) -> MADE:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale)
    return model


@pytest.mark.parametrize("num_masks", [1, 3])
def test_output_i_has_exactly_zero_gradient_wrt_inputs_at_or_after_i_in_every_ordering(num_masks):
    model = randomised(MADE(7, [16, 16], num_masks=num_masks, seed=4))
    x = torch.randint(0, 2, (2, 7)).float().requires_grad_()
    for m in range(num_masks):
        model.use_mask(m)
        out = model.net(x)[:, 0]  # logits [B, D]
        position = model.orderings[m]
        for d in range(7):
            (g,) = torch.autograd.grad(out[:, d].sum(), x, retain_graph=True)
            later = position >= position[d]
            assert g[:, later].eq(0).all(), f"mask {m}: output {d} sees an input at or after it"
            if position[d] == 6:  # the last output reaches some earlier input
                assert g[:, ~later].ne(0).any()


@pytest.mark.parametrize("num_masks", [1, 4])
def test_binary_mixture_sums_to_one_over_all_vectors(num_masks):
    model = randomised(MADE(12, [24], num_masks=num_masks, seed=1))
    with torch.no_grad():
        total = torch.logsumexp(model.log_prob(all_binary(12)), 0).exp()
    assert abs(total.item() - 1.0) < 1e-4


def test_mixture_is_logsumexp_of_components_minus_log_m():
    model = randomised(MADE(6, [12], num_masks=3, seed=2))
    x = all_binary(6)[::7]
    with torch.no_grad():
        parts = torch.stack([model.component_log_prob(x, m) for m in range(3)])
        assert torch.allclose(model.log_prob(x), torch.logsumexp(parts, 0) - math.log(3), atol=1e-5)
        # each component is itself normalised
        for m in range(3):
            assert abs(torch.logsumexp(model.component_log_prob(all_binary(6), m), 0).exp().item() - 1) < 1e-4


def test_categorical_output_sums_to_one():
    model = randomised(MADE(3, [10], likelihood="levels", num_levels=4, seed=0), scale=0.7)
    grid = torch.cartesian_prod(*[torch.arange(4.0)] * 3)
    with torch.no_grad():
        assert abs(torch.logsumexp(model.log_prob(grid), 0).exp().item() - 1) < 1e-4
    with pytest.raises(InputError, match="levels"):
        model.log_prob(torch.tensor([[0.0, 4.0, 1.0]]))


def test_gaussian_output_integrates_to_one():
    model = randomised(MADE(2, [8], likelihood="gaussian", seed=0), scale=0.3)
    t = torch.linspace(-12, 12, 601)
    grid = torch.cartesian_prod(t, t)
    with torch.no_grad():
        density = model.log_prob(grid).exp()
    integral = density.sum().item() * (t[1] - t[0]).item() ** 2
    assert abs(integral - 1.0) < 1e-3


def test_mixture_samples_follow_the_model_chi_square(seed):
    model = randomised(MADE(4, [8], num_masks=3, seed=5), seed=1, scale=1.5)
    with torch.no_grad():
        probs = model.log_prob(all_binary(4)).exp()
    assert chi_square_pvalue(model.sample(20000, seed=seed(0)), probs) > FALSE_FAILURE_RATE


def test_complete_keeps_observed_and_matches_conditional_for_natural_order(seed):
    model = randomised(MADE(4, [8], natural_ordering=True), seed=3, scale=1.5)
    prefix = torch.tensor([0.0, 1.0])
    mask = torch.tensor([True, True, False, False])
    done = model.complete(torch.cat([prefix, torch.zeros(2)]).expand(20000, 4), mask, seed=seed(1))
    assert done[:, :2].eq(prefix).all()
    states = all_binary(4)
    with torch.no_grad():
        joint = model.log_prob(states).exp()[(states[:, :2] == prefix).all(1)]
    assert chi_square_pvalue(done[:, 2:], joint / joint.sum()) > FALSE_FAILURE_RATE


def test_order_agnostic_training_cycles_masks_and_evaluates_the_mixture():
    torch.manual_seed(0)
    data = (torch.rand(200, 6) < torch.linspace(0.1, 0.9, 6)).float()
    model = MADE(6, [16], num_masks=3, seed=0)
    Trainer(model, lr=1e-2, epochs=3, batch_size=50, progress=False, device="cpu").fit(data)
    assert int(model.step) == 12  # 4 batches x 3 epochs, one mask per step
    model.eval()
    assert torch.allclose(model.loss(data), -model.log_prob(data).mean())


def test_bad_input_and_round_trip(tmp_path):
    model = MADE(4, [8], num_masks=2)
    with pytest.raises(InputError, match="binary"):
        model.log_prob(torch.tensor([[0.0, 2.0, 1.0, 0.0]]))
    with pytest.raises(InputError, match="NaN"):
        model.log_prob(torch.tensor([[float("nan"), 0.0, 1.0, 0.0]]))
    with pytest.raises(InputError, match="shape"):
        model.log_prob(torch.zeros(3))
    with pytest.raises(InputError, match="likelihood"):
        MADE(4, [8], likelihood="poisson")
    randomised(model)
    model.use_mask(1)
    bayesdl.save(model, tmp_path / "made.safetensors")
    loaded = bayesdl.load(tmp_path / "made.safetensors")
    x = all_binary(4)
    assert torch.allclose(model.log_prob(x), loaded.log_prob(x))


def test_trainer_checks_made_and_nade_data_once_before_the_first_step():
    from bayesdl.models.autoregressive import NADE

    x = torch.bernoulli(torch.full((40, 6), 0.5), generator=torch.Generator().manual_seed(0))
    bad = x.clone()
    bad[-1, -1] = float("nan")  # in the last minibatch
    for model in (MADE(6, [8]), NADE(6, 4)):
        with pytest.raises(InputError, match="NaN"):
            Trainer(model, epochs=1, batch_size=10, progress=False).fit(bad)
        with pytest.raises(InputError, match="binary"):
            model.check_data(torch.full((2, 6), 0.5))  # called directly, nothing is trusted
        Trainer(model, epochs=1, batch_size=10, progress=False).fit(x)
