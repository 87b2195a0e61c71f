import pytest
import torch
from ar_testing import all_binary, chi_square_pvalue
from stats_testing import FALSE_FAILURE_RATE

import bayesdl
from bayesdl.errors import InputError
from bayesdl.models.autoregressive import NADE


def random_nade(d: int, h: int, seed: int = 0, scale: float = 1.0) -> NADE:
    torch.manual_seed(seed)
    model = NADE(d, h)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale)
    return model


def test_conditional_i_has_exactly_zero_gradient_wrt_inputs_at_or_after_i():
    model = random_nade(8, 6)
    x = torch.randint(0, 2, (3, 8)).float().requires_grad_()
    logits = model.logits(x)
    for i in range(8):
        (g,) = torch.autograd.grad(logits[:, i].sum(), x, retain_graph=True)
        assert g[:, i:].eq(0).all(), f"logit {i} depends on inputs >= {i}"
        if i > 0:
            assert g[:, :i].ne(0).all(), f"logit {i} ignores an earlier input"


def test_probabilities_of_all_binary_vectors_sum_to_one():
    model = random_nade(12, 7)
    with torch.no_grad():
        total = torch.logsumexp(model.log_prob(all_binary(12)), 0).exp()
    assert abs(total.item() - 1.0) < 1e-4


def test_log_prob_matches_explicit_product_of_conditionals():
    model = random_nade(5, 4)
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0]])
    expected = 0.0
    for d in range(5):
        h = torch.sigmoid(model.c + model.W[:, :d] @ x[0, :d])
        p = torch.sigmoid(model.b[d] + model.V[d] @ h)
        expected += torch.log(p if x[0, d] == 1 else 1 - p)
    assert torch.allclose(model.log_prob(x)[0], expected, atol=1e-5)


def test_samples_follow_the_model_chi_square(seed):
    model = random_nade(4, 3, seed=1, scale=1.5)
    with torch.no_grad():
        probs = model.log_prob(all_binary(4)).exp()
    samples = model.sample(20000, seed=seed(0))
    assert chi_square_pvalue(samples, probs) > FALSE_FAILURE_RATE
    assert torch.equal(model.sample(5, seed=3), model.sample(5, seed=3))


def test_complete_draws_from_the_conditional_given_a_prefix(seed):
    model = random_nade(4, 3, seed=2, scale=1.5)
    prefix = torch.tensor([1.0, 0.0])
    x_partial = torch.cat([prefix, torch.full((2,), float("nan"))]).expand(20000, 4)
    mask = torch.tensor([True, True, False, False])
    done = model.complete(x_partial, mask, seed=seed(0))
    assert done[:, :2].eq(prefix).all()
    states = all_binary(4)
    with torch.no_grad():
        joint = model.log_prob(states).exp()
    sub = joint[(states[:, :2] == prefix).all(1)]  # p(x_3, x_4, prefix) over the 4 completions, in order
    assert chi_square_pvalue(done[:, 2:], sub / sub.sum()) > FALSE_FAILURE_RATE


def test_bad_input_gives_clear_errors():
    model = NADE(4, 3)
    with pytest.raises(InputError, match="binary"):
        model.log_prob(torch.tensor([[0.0, 0.5, 1.0, 0.0]]))
    with pytest.raises(InputError, match="NaN"):
        model.log_prob(torch.tensor([[0.0, float("nan"), 1.0, 0.0]]))
    with pytest.raises(InputError, match="shape"):
        model.log_prob(torch.zeros(2, 5))
    with pytest.raises(InputError, match="NaN"):
        model.complete(torch.tensor([[float("nan"), 0.0, 1.0, 0.0]]), torch.ones(4, dtype=torch.bool))
    with pytest.raises(InputError, match="num_samples must be"):
        model.sample(0)


def test_save_and_load_round_trip(tmp_path):
    model = random_nade(6, 4)
    bayesdl.save(model, tmp_path / "nade.safetensors")
    loaded = bayesdl.load(tmp_path / "nade.safetensors")
    x = all_binary(6)
    assert torch.equal(model.log_prob(x), loaded.log_prob(x))
