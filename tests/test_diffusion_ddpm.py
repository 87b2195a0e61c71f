"""DDPM construction, losses, importance sampling of t, saving, and bad input."""

import math

import pytest
import torch
from stats_testing import z_bound

import bayesdl
from bayesdl.errors import InputError
from bayesdl.models.diffusion import DDPM, ImportanceTimestepSampler
from bayesdl.nn import DenoisingMLP, UNet
from tests.diffusion_helpers import OptimalGaussianDenoiser


def _mlp_model(**kw):
    torch.manual_seed(0)
    out = 4 if kw.get("variance") == "learned" else 2
    return DDPM(
        DenoisingMLP(2, hidden=16, out_features=out), data_shape=[2], num_steps=kw.pop("num_steps", 20), **kw
    )


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(num_steps=0), "num_steps"),
        (dict(num_steps=2.5), "num_steps"),
        (dict(schedule="quadratic"), "schedule"),
        (dict(prediction="score"), "prediction"),
        (dict(variance="fixed"), "variance"),
        (dict(decoder="bernoulli"), "decoder"),
        (dict(variance="learned"), "learned"),
        (dict(loss="hybrid"), "hybrid"),
        (dict(timesteps="importance"), "importance"),
        (dict(data_shape=[]), "data_shape"),
    ],
)
def test_bad_constructor_arguments_raise_clear_errors(kwargs, message):
    kwargs.setdefault("data_shape", [2])
    with pytest.raises(InputError, match=message):
        DDPM(DenoisingMLP(2, hidden=4), **kwargs)


def test_bad_data_raises_clear_errors():
    model = _mlp_model()
    with pytest.raises(InputError, match="x0 must have shape"):
        model.loss(torch.randn(4, 3))
    with pytest.raises(InputError, match="x0 must have shape"):
        model.nll_bound(torch.randn(4))
    with pytest.raises(InputError, match="NaN"):
        model.nll_bound(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(InputError, match="empty"):
        model.loss(torch.zeros(0, 2))
    with pytest.raises(InputError, match="t must"):
        model.q_sample(torch.zeros(2, 2), torch.tensor([0, 5]))
    image_model = DDPM(
        UNet(1, base_channels=8, channel_mults=[1], attention_levels=[]),
        data_shape=[1, 4, 4],
        num_steps=5,
        decoder="discretized",
        num_levels=256,
    )
    with pytest.raises(InputError, match="grid"):
        image_model.nll_bound(torch.full((1, 1, 4, 4), 0.001))
    with pytest.raises(InputError, match=r"\[-1.0, 1.0\]"):
        image_model.nll_bound(torch.full((1, 1, 4, 4), 2.0))
    wrong = DDPM(DenoisingMLP(2, hidden=4, out_features=3), data_shape=[2], num_steps=5)
    with pytest.raises(InputError, match="denoiser must return"):
        wrong.loss(torch.zeros(3, 2))


def test_q_sample_checks_t():
    model = _mlp_model()
    model._check_t(torch.tensor([1, 20]), 2)
    with pytest.raises(InputError):
        model._check_t(torch.tensor([1, 21]), 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(prediction="x0"),
        dict(prediction="v", schedule="cosine"),
        dict(loss="vlb"),
        dict(loss="vlb", timesteps="importance"),
        dict(variance="learned", loss="hybrid"),
        dict(variance="learned", loss="hybrid", timesteps="importance"),
    ],
)
def test_every_loss_is_finite_and_trains_the_denoiser(kwargs):
    model = _mlp_model(**kwargs)
    x0 = torch.randn(64, 2)
    loss = model.loss(x0)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.denoiser.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


def test_reverse_mean_is_the_same_for_every_parameterisation_of_the_same_denoiser():
    x_t, t = torch.randn(32, 1), torch.randint(1, 101, (32,))
    means = [
        DDPM(
            OptimalGaussianDenoiser("cosine", 100, p),
            data_shape=[1],
            num_steps=100,
            schedule="cosine",
            prediction=p,
        )
        .reverse_step(x_t, t)
        .mean
        for p in ("eps", "x0", "v")
    ]
    assert torch.allclose(means[0], means[1], atol=1e-4) and torch.allclose(means[0], means[2], atol=1e-4)
    # the optimal reverse mean for N(0, 1) data is sqrt(alpha_t) x_t
    model = DDPM(OptimalGaussianDenoiser("cosine", 100), data_shape=[1], num_steps=100, schedule="cosine")
    assert torch.allclose(means[0], model.alphas[t - 1].sqrt().unsqueeze(1) * x_t, atol=1e-4)


def test_vlb_loss_is_an_unbiased_estimate_of_the_bound(seed):
    """E_t[(L_T + T L_t) / D] = bound / D for uniform t, and the importance weights keep it unbiased.

    The reference is itself a Monte Carlo estimate (one nll_bound call over 512 points has sd ~0.05 from
    its x_t draws), so it is averaged over 20 calls; each mean of 300 loss estimates must lie within
    z = 4.9 standard errors of the difference (2 checks, false-failure rate 1e-5)."""
    torch.manual_seed(seed(0))
    z = z_bound(tests=2)
    model = DDPM(OptimalGaussianDenoiser("linear", 20), data_shape=[1], num_steps=20, loss="vlb")
    x0 = torch.randn(512, 1)
    references = torch.tensor([float(model.nll_bound(x0, seed=seed(100 + r)).mean()) for r in range(20)])
    exact, exact_se = float(references.mean()), float(references.std()) / math.sqrt(20)
    with torch.no_grad():
        estimates = torch.tensor([float(model.loss(x0)) for _ in range(300)])
    assert abs(float(estimates.mean()) - exact) < z * math.hypot(
        float(estimates.std()) / math.sqrt(300), exact_se
    )

    model = DDPM(
        OptimalGaussianDenoiser("linear", 20),
        data_shape=[1],
        num_steps=20,
        loss="vlb",
        timesteps="importance",
    )
    for _ in range(40):  # warm up the history so that p_t is no longer uniform
        model.loss(x0)
    assert model.step_sampler.warmed_up
    p = model.step_sampler.probabilities()
    assert abs(float(p.sum()) - 1) < 1e-5 and float(p.max()) > 2 / 20
    model.eval()  # freeze the history
    with torch.no_grad():
        estimates = torch.tensor([float(model.loss(x0)) for _ in range(300)])
    assert abs(float(estimates.mean()) - exact) < z * math.hypot(
        float(estimates.std()) / math.sqrt(300), exact_se
    )


def test_importance_sampler_probabilities_follow_the_rms_of_the_terms(seed):
    sampler = ImportanceTimestepSampler(3, history=2, uniform_mix=0.0)
    sampler.update(torch.tensor([1, 1, 2, 2, 3, 3]), torch.tensor([1.0, 1.0, 2.0, 2.0, 4.0, 4.0]))
    assert torch.allclose(sampler.probabilities(), torch.tensor([1.0, 2.0, 4.0]) / 7)
    t, w = sampler.draw(1000, generator=torch.Generator().manual_seed(seed(0)))
    assert torch.allclose(w, 1 / (3 * sampler.probabilities()[t - 1]))
    assert abs(float((t == 3).float().mean()) - 4 / 7) <= z_bound() * math.sqrt(
        4 / 7 * 3 / 7 / 1000
    )  # binomial


def test_save_and_load_round_trip(tmp_path):
    model = DDPM(
        DenoisingMLP(2, hidden=8, out_features=4),
        data_shape=[2],
        num_steps=15,
        variance="learned",
        loss="hybrid",
        timesteps="importance",
        schedule="cosine",
    )
    model.loss(torch.randn(16, 2))
    path = bayesdl.save(model, tmp_path / "ddpm.safetensors")
    loaded = bayesdl.load(path)
    x = torch.randn(5, 2)
    assert torch.allclose(model.nll_bound(x, seed=1), loaded.nll_bound(x, seed=1))
    assert torch.equal(model.step_sampler.counts, loaded.step_sampler.counts)
    assert loaded.config["schedule"] == "cosine"


def test_hybrid_bound_term_trains_only_the_variance_half_of_the_output():
    model = _mlp_model(variance="learned", loss="hybrid")
    x0, t = torch.randn(8, 2), torch.randint(1, 21, (8,))
    x_t = model.q_sample(x0, t)
    output = torch.randn(8, 4, requires_grad=True)
    model.bound_terms_at(x0, x_t, t, detach_mean=True, output=output).sum().backward()
    assert float(output.grad[:, :2].abs().max()) == 0.0
    assert float(output.grad[:, 2:].abs().max()) > 0.0


class _ZeroLogits(torch.nn.Module):
    """Uniform prior logits over the grid levels: the exact optimal 'grid' denoiser for data whose
    dimensions are independent and uniform on the levels."""

    def __init__(self, num_levels):
        super().__init__()
        self.num_levels = num_levels

    def forward(self, x, t):
        return x.new_zeros(x.shape[0], x.shape[1] * self.num_levels, *x.shape[2:])


def test_grid_posterior_mean_is_bayes_rule_by_enumeration():
    K, T = 5, 50
    model = DDPM(
        _ZeroLogits(K),
        data_shape=[1, 2, 2],
        num_steps=T,
        decoder="discretized",
        num_levels=K,
        prediction="grid",
    )
    g = torch.Generator().manual_seed(0)
    x_t = torch.randn(3, 1, 2, 2, generator=g)
    logits = torch.randn(3, K, 2, 2, generator=g)
    t = torch.tensor([1, 20, 50])
    got = model.grid_posterior_mean(logits, x_t, t)
    grid = torch.linspace(-1, 1, K, dtype=torch.float64)
    for b in range(3):
        ab = float(model.alpha_bar[t[b] - 1].double())
        for i in range(2):
            for j in range(2):
                w = [
                    math.exp(float(logits[b, k, i, j]))
                    * math.exp(-0.5 * (float(x_t[b, 0, i, j]) - math.sqrt(ab) * grid[k]) ** 2 / (1 - ab))
                    for k in range(K)
                ]
                expected = sum(wk * float(c) for wk, c in zip(w, grid)) / sum(w)
                assert abs(float(got[b, 0, i, j]) - expected) < 1e-5


def test_grid_prediction_snaps_to_the_level_where_noise_is_below_the_spacing():
    """With the optimal grid denoiser and variance beta-tilde, the small-t KL terms and the decoder term vanish:
    x0_hat is the true level, so p(x_{t-1} | x_t) equals q(x_{t-1} | x_t, x_0). An eps network cannot do this."""
    K, T = 17, 1000
    levels = torch.randint(0, K, (200, 8), generator=torch.Generator().manual_seed(0))
    x0 = 2 * levels.float() / (K - 1) - 1
    model = DDPM(
        _ZeroLogits(K),
        data_shape=[8],
        num_steps=T,
        decoder="discretized",
        num_levels=K,
        prediction="grid",
        variance="beta_tilde",
    )
    bound = model.nll_bound(x0, seed=1, return_terms=True)
    assert (
        float(bound.terms[:, :2].sum(1).max()) < 1e-3
    )  # L_0 and L_1 (noise <= 0.015, a quarter of the half-spacing)
    # the whole bound is above the true NLL, 8 log 17 nats, and not far from it
    true_nll = 8 * math.log(K)
    assert true_nll - 0.1 < float(bound.total.mean()) < true_nll + 0.3 * 8


def test_grid_prediction_trains_and_rejects_bad_settings():
    from bayesdl.nn import DenoisingMLP

    K = 5
    model = DDPM(
        DenoisingMLP(3, hidden=16, out_features=3 * K),
        data_shape=[3],
        num_steps=20,
        decoder="discretized",
        num_levels=K,
        prediction="grid",
    )
    x0 = 2 * torch.randint(0, K, (16, 3), generator=torch.Generator().manual_seed(0)).float() / (K - 1) - 1
    loss = model.loss(x0)
    loss.backward()
    assert torch.isfinite(loss) and model.denoiser.out.weight.grad.abs().sum() > 0
    assert model.sample(4, seed=0).shape == (4, 3) and model.ddim_sample(4, num_steps=5, seed=0).shape == (
        4,
        3,
    )
    with pytest.raises(InputError, match="discretized"):
        DDPM(DenoisingMLP(3, hidden=16, out_features=3 * K), data_shape=[3], num_steps=20, prediction="grid")
    with pytest.raises(InputError, match="learned"):
        DDPM(
            DenoisingMLP(3, hidden=16),
            data_shape=[3],
            num_steps=20,
            decoder="discretized",
            num_levels=K,
            prediction="grid",
            variance="learned",
            loss="vlb",
        )
    wrong = DDPM(
        DenoisingMLP(3, hidden=16),
        data_shape=[3],
        num_steps=20,
        decoder="discretized",
        num_levels=K,
        prediction="grid",
    )
    with pytest.raises(InputError, match="5 times the channels"):
        wrong.loss(x0)
