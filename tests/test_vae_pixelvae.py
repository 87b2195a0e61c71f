"""PixelVAE: the PixelCNN decoder conditioned on z stays causal, normalises, samples correctly, and plugs into the VAE."""

import pytest
import torch
from ar_testing import all_binary, chi_square_pvalue
from stats_testing import FALSE_FAILURE_RATE

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import Trainer, log_likelihood
from bayesdl.models.autoregressive import PixelCNN
from bayesdl.models.vae import VAE, MLPEncoder, PixelCNNDecoder


def randomised(decoder: PixelCNNDecoder, seed: int = 0) -> PixelCNNDecoder:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in decoder.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return decoder


def test_conditioning_on_z_keeps_every_pixel_causal_and_is_used():
    h, w = 3, 4
    dec = randomised(PixelCNNDecoder(2, [1, h, w], num_layers=3, hidden_channels=8, condition_dims=[8]))
    x = torch.randint(0, 2, (2, 1, h, w)).float().requires_grad_()
    z = torch.randn(2, 2, requires_grad=True)
    out = dec.pixelcnn(x, condition=dec.condition(z))  # [B, P, C, H, W]
    for k in range(h * w):
        i, j = divmod(k, w)
        gx, gz = torch.autograd.grad(out[:, :, :, i, j].sum(), (x, z), retain_graph=True)
        g = gx.abs().sum((0, 1)).flatten()
        assert g[k:].eq(0).all(), f"pixel {(i, j)} depends on itself or a later pixel"
        assert g[:k].ne(0).all(), f"pixel {(i, j)} misses an earlier pixel"
        assert gz.abs().sum() > 0, f"pixel {(i, j)} ignores z"


def test_conditional_decoder_normalises_over_all_binary_images_for_fixed_z():
    h, w = 3, 3
    dec = randomised(PixelCNNDecoder(2, [1, h, w], num_layers=2, hidden_channels=8, condition_dims=[8]))
    images = all_binary(h * w).reshape(-1, 1, h, w)
    with torch.no_grad():
        probs = []
        for z in (torch.zeros(2), torch.tensor([1.5, -2.0])):
            log_p = dec(z.expand(len(images), 2)).log_prob(images)
            assert abs(float(log_p.exp().sum()) - 1) < 1e-5
            probs.append(log_p.exp())
    assert (probs[0] - probs[1]).abs().max() > 1e-3  # z changes the distribution


def test_samples_follow_the_enumerated_conditional(seed):
    h, w = 2, 2
    dec = randomised(
        PixelCNNDecoder(2, [1, h, w], num_layers=2, hidden_channels=8, condition_dims=[8]), seed=1
    )
    z = torch.tensor([0.7, -0.4])
    images = all_binary(h * w).reshape(-1, 1, h, w)
    with torch.no_grad():
        probs = dec(z.expand(len(images), 2)).log_prob(images).exp()
    torch.manual_seed(seed(0))
    draws = dec(z).sample(torch.Size([3000]))
    assert draws.shape == (3000, 1, h, w)
    assert chi_square_pvalue(draws.reshape(3000, -1), probs) > FALSE_FAILURE_RATE


def test_pixelvae_trains_reports_kl_and_gives_log_likelihood(tmp_path, seed):
    torch.manual_seed(seed(0))
    x = torch.bernoulli(torch.full((48, 1, 4, 4), 0.3))
    dec = PixelCNNDecoder(2, [1, 4, 4], num_layers=2, hidden_channels=8, condition_dims=[8])
    vae = VAE(MLPEncoder([1, 4, 4], 2, [16]), dec, free_bits=0.25)
    history = Trainer(vae, lr=1e-2, epochs=6, batch_size=16, progress=False, seed=seed(0)).fit(x)
    assert history.losses[-1] < history.losses[0]
    reconstruction, kl = vae.elbo_terms(x[:8], num_particles=4)
    assert kl.shape == (8,) and bool((kl >= 0).all())
    est = log_likelihood(vae, x[:6], num_samples=64, batch_size=3, seed=seed(1))
    assert torch.isfinite(est.log_prob).all()
    assert est.mean() > float((reconstruction - kl).mean().detach()) - 1.0  # above the ELBO up to noise
    assert vae.sample(3, mean=False, seed=0).shape == (3, 1, 4, 4)
    with pytest.raises(NotImplementedError, match="mean=False"):
        vae.sample(3)
    bayesdl.save(vae, tmp_path / "pixelvae")
    again = bayesdl.load(tmp_path / "pixelvae")
    torch.manual_seed(1)
    a = vae.negative_elbo(x[:4]).detach()
    torch.manual_seed(1)
    assert torch.allclose(again.negative_elbo(x[:4]).detach(), a)


def test_bad_input_and_unconditional_models_are_unchanged():
    dec = PixelCNNDecoder(2, [1, 3, 3], num_layers=2, hidden_channels=8, condition_dims=[8])
    with pytest.raises(InputError, match="x"):
        dec.check_data(torch.full((2, 1, 3, 3), 0.5))
    with pytest.raises(InputError, match="x"):
        dec.check_data(torch.zeros(2, 9))
    with pytest.raises(InputError, match="condition"):
        dec.pixelcnn.log_prob(torch.zeros(2, 1, 3, 3))
    with pytest.raises(InputError, match="condition"):
        dec.pixelcnn.log_prob(torch.zeros(2, 1, 3, 3), condition=torch.zeros(3, 8))
    with pytest.raises(InputError, match="condition"):
        PixelCNN(1, 3, num_layers=1, hidden_channels=4).log_prob(
            torch.zeros(1, 1, 3, 3), condition=torch.zeros(1, 2)
        )
    # class labels and a continuous vector together
    both = PixelCNN(1, 3, num_layers=2, hidden_channels=4, num_classes=2, condition_size=3)
    assert both.log_prob(
        torch.zeros(2, 1, 3, 3), torch.tensor([0, 1]), condition=torch.zeros(2, 3)
    ).shape == (2,)
