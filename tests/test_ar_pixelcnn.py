import pytest
import torch
from ar_testing import all_binary, chi_square_pvalue
from stats_testing import FALSE_FAILURE_RATE

import bayesdl
from bayesdl.errors import InputError
from bayesdl.models.autoregressive import PixelCNN


def randomised(model: PixelCNN, seed: int = 0, scale: float | None = None) -> PixelCNN:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if scale is None:
                p.add_(0.1 * torch.randn_like(p))  # also make the biases non-zero
            else:
                p.normal_(0.0, scale)
    return model


def pixel_gradients(model: PixelCNN, x: torch.Tensor, y=None):
    """For every pixel k (raster order), the gradient of its output parameters wrt the image, flattened [H*W]."""
    x = x.clone().requires_grad_()
    out = model(x, y)  # [B, P, C, H, W]
    h, w = model.height, model.width
    grads = []
    for i in range(h):
        for j in range(w):
            (g,) = torch.autograd.grad(out[:, :, :, i, j].sum(), x, retain_graph=True)
            grads.append(g.abs().sum((0, 1)).flatten())
    return grads


@pytest.mark.parametrize("likelihood", ["bernoulli", "categorical"])
def test_every_pixel_is_causal_and_there_is_no_blind_spot(likelihood):
    h, w = 4, 5
    model = randomised(
        PixelCNN(1, (h, w), num_layers=4, hidden_channels=16, likelihood=likelihood, num_levels=4)
    )
    assert model.receptive_radius >= max(h, w) - 1
    x = torch.randint(0, 2 if likelihood == "bernoulli" else 4, (2, 1, h, w)).float()
    for k, g in enumerate(pixel_gradients(model, x)):
        assert g[k:].eq(0).all(), f"pixel {divmod(k, w)} depends on itself or a later pixel"
        assert g[:k].ne(0).all(), (
            f"pixel {divmod(k, w)} has a blind spot at {(g[:k] == 0).nonzero().flatten().tolist()}"
        )


def test_too_few_layers_leave_far_pixels_out_but_stay_causal():
    h, w = 4, 5
    model = randomised(PixelCNN(1, (h, w), num_layers=1, hidden_channels=16))
    grads = pixel_gradients(model, torch.randint(0, 2, (2, 1, h, w)).float())
    last = grads[-1]  # pixel (3, 4) sees only (2, 3..4) and (3, 3) with one 3x3 layer
    assert last[h * w - 1 :].eq(0).all()
    assert last.ne(0).sum() == 3
    for k, g in enumerate(grads):
        assert g[k:].eq(0).all()


def test_class_conditioning_is_causal_and_used():
    model = randomised(PixelCNN(1, (3, 3), num_layers=2, hidden_channels=8, num_classes=3))
    x = torch.randint(0, 2, (2, 1, 3, 3)).float()
    for k, g in enumerate(pixel_gradients(model, x, torch.tensor([0, 2]))):
        assert g[k:].eq(0).all()
    lp0, lp2 = model.log_prob(x, torch.tensor([0, 0])), model.log_prob(x, torch.tensor([2, 2]))
    assert not torch.allclose(lp0, lp2)


def test_bernoulli_3x4_sums_to_one_unconditional_and_per_class():
    x = all_binary(12).reshape(-1, 1, 3, 4)
    model = randomised(PixelCNN(1, (3, 4), num_layers=3, hidden_channels=12), scale=0.3)
    conditional = randomised(PixelCNN(1, (3, 4), num_layers=3, hidden_channels=12, num_classes=2), scale=0.3)
    with torch.no_grad():
        assert abs(torch.logsumexp(model.log_prob(x), 0).exp().item() - 1) < 1e-4
        for c in range(2):
            y = torch.full((len(x),), c)
            assert abs(torch.logsumexp(conditional.log_prob(x, y), 0).exp().item() - 1) < 1e-4


@pytest.mark.parametrize("likelihood", ["categorical", "logistic_mixture"])
def test_multilevel_likelihoods_sum_to_one(likelihood):
    model = randomised(
        PixelCNN(
            1, (1, 2), num_layers=2, hidden_channels=8, likelihood=likelihood, num_levels=6, num_components=3
        ),
        scale=0.5,
    )
    grid = torch.cartesian_prod(torch.arange(6.0), torch.arange(6.0)).reshape(-1, 1, 1, 2)
    with torch.no_grad():
        assert abs(torch.logsumexp(model.log_prob(grid), 0).exp().item() - 1) < 1e-4


@pytest.mark.parametrize("num_classes", [0, 3])
def test_row_cached_pixel_computation_equals_the_full_network(num_classes):
    model = randomised(PixelCNN(2, (6, 7), num_layers=2, hidden_channels=8, num_classes=num_classes))
    assert model.receptive_radius < 6  # the row and column windows are real crops
    x = torch.randint(0, 2, (3, 2, 6, 7)).float()
    y = torch.tensor([0, 2, 1]) if num_classes else None
    with torch.no_grad():
        full = model(x, y)
        inputs = model.likelihood.encode(x)
        condition = model._condition(y, 3)
        for i in range(6):
            features = model._row_vertical_features(inputs, condition, i)
            for j in range(7):
                assert torch.allclose(
                    model._pixel_params(inputs, features, condition, i, j), full[..., i, j], atol=1e-5
                )


def test_samples_follow_the_model_chi_square(seed):
    model = randomised(PixelCNN(1, (2, 2), num_layers=2, hidden_channels=8), seed=1, scale=0.6)
    with torch.no_grad():
        probs = model.log_prob(all_binary(4).reshape(-1, 1, 2, 2)).exp()
    samples = model.sample(20000, seed=seed(0))
    assert samples.shape == (20000, 1, 2, 2)
    assert chi_square_pvalue(samples.reshape(-1, 4), probs) > FALSE_FAILURE_RATE


def test_complete_keeps_observed_pixels_and_matches_conditional(seed):
    model = randomised(PixelCNN(1, (2, 2), num_layers=2, hidden_channels=8), seed=2, scale=0.6)
    top = torch.tensor([1.0, 0.0])
    x_partial = torch.full((20000, 1, 2, 2), float("nan"))
    x_partial[:, 0, 0] = top
    mask = torch.tensor([[True, True], [False, False]]).reshape(1, 1, 2, 2)
    done = model.complete(x_partial, mask, seed=seed(0))
    assert done[:, 0, 0].eq(top).all()
    states = all_binary(4)
    with torch.no_grad():
        joint = model.log_prob(states.reshape(-1, 1, 2, 2)).exp()[(states[:, :2] == top).all(1)]
    assert chi_square_pvalue(done[:, 0, 1], joint / joint.sum()) > FALSE_FAILURE_RATE


def test_bad_input_gives_clear_errors(tmp_path):
    model = PixelCNN(1, (3, 4), num_layers=2, hidden_channels=4)
    with pytest.raises(InputError, match="shape"):
        model.log_prob(torch.zeros(2, 1, 4, 4))
    with pytest.raises(InputError, match="shape"):
        model.log_prob(torch.zeros(2, 12))
    with pytest.raises(InputError, match="binary"):
        model.log_prob(torch.full((1, 1, 3, 4), 0.5))
    with pytest.raises(InputError, match="NaN"):
        model.log_prob(torch.full((1, 1, 3, 4), float("nan")))
    with pytest.raises(InputError, match="unconditional"):
        model.log_prob(torch.zeros(1, 1, 3, 4), torch.tensor([0]))
    categorical = PixelCNN(1, 2, num_layers=1, hidden_channels=4, likelihood="levels")
    with pytest.raises(InputError, match="levels"):
        categorical.log_prob(torch.full((1, 1, 2, 2), 256.0))
    conditional = PixelCNN(1, 2, num_layers=1, hidden_channels=4, num_classes=3)
    with pytest.raises(InputError, match="class-conditional"):
        conditional.log_prob(torch.zeros(1, 1, 2, 2))
    with pytest.raises(InputError, match="labels"):
        conditional.sample(2, y=5)
    with pytest.raises(InputError, match="likelihood"):
        PixelCNN(1, 2, likelihood="gaussian")
    bayesdl.save(conditional, tmp_path / "pixelcnn.safetensors")
    loaded = bayesdl.load(tmp_path / "pixelcnn.safetensors")
    x = torch.randint(0, 2, (4, 1, 2, 2)).float()
    y = torch.tensor([0, 1, 2, 0])
    assert torch.equal(loaded.log_prob(x, y), conditional.log_prob(x, y))
    assert torch.equal(loaded.sample(3, y=1, seed=4), conditional.sample(3, y=1, seed=4))
