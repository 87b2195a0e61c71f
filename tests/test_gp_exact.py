"""Exact GP regression: closed-form posterior and marginal likelihood, trainer integration, errors, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import RegressionPrediction, predict
from bayesdl.models.gp import ExactGPRegression


def _rbf(a: np.ndarray, b: np.ndarray, ls: np.ndarray, s2: float) -> np.ndarray:
    r2 = (((a[:, None, :] - b[None, :, :]) / ls) ** 2).sum(-1)
    return s2 * np.exp(-0.5 * r2)


def _matern52(a: np.ndarray, b: np.ndarray, ls: np.ndarray, s2: float) -> np.ndarray:
    r = np.sqrt((((a[:, None, :] - b[None, :, :]) / ls) ** 2).sum(-1))
    return s2 * (1 + math.sqrt(5) * r + 5.0 / 3.0 * r**2) * np.exp(-math.sqrt(5) * r)


def _tiny_problem():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 2))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] + 0.1 * rng.normal(size=7)
    xs = rng.normal(size=(5, 2))
    return x, y, xs


def _fixed_model(kind: str, x: np.ndarray, y: np.ndarray, ls, s2, noise, const) -> ExactGPRegression:
    model = ExactGPRegression.from_data(
        torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32), kernel=kind
    ).double()
    model.gp.covar_module.base_kernel.lengthscale = torch.tensor(ls[None], dtype=torch.float64)
    model.gp.covar_module.outputscale = torch.tensor(s2, dtype=torch.float64)
    model.likelihood.noise = torch.tensor([noise], dtype=torch.float64)
    model.gp.mean_module.constant = torch.tensor(const, dtype=torch.float64)
    return model


@pytest.mark.parametrize("kind,kfun", [("rbf", _rbf), ("matern52", _matern52)])
def test_posterior_matches_closed_form(kind, kfun):
    x, y, xs = _tiny_problem()
    ls, s2, noise, const = np.array([0.7, 1.3]), 1.5, 0.1, 0.3
    model = _fixed_model(kind, x, y, ls, s2, noise, const)
    # the float32 buffers were converted by .double(); use float64 data for an exact comparison
    model.set_train_data(torch.tensor(x), torch.tensor(y))
    pred = model.predict(torch.tensor(xs))
    K = kfun(x, x, ls, s2) + noise * np.eye(len(x))
    Ks = kfun(x, xs, ls, s2)
    mean = const + Ks.T @ np.linalg.solve(K, y - const)
    var = np.diag(kfun(xs, xs, ls, s2) - Ks.T @ np.linalg.solve(K, Ks))
    np.testing.assert_allclose(pred.mean.numpy(), mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(pred.epistemic.numpy(), var, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(pred.aleatoric.numpy(), noise, rtol=1e-6)
    # loss = -log N(y | const, K) / N
    sign, logdet = np.linalg.slogdet(K)
    r = y - const
    log_ml = -0.5 * r @ np.linalg.solve(K, r) - 0.5 * logdet - 0.5 * len(y) * math.log(2 * math.pi)
    loss = model.loss(torch.tensor(x), torch.tensor(y), num_data=len(y))
    assert loss.item() == pytest.approx(-log_ml / len(y), rel=1e-6)


def test_exact_beyond_gpytorch_cholesky_default():
    # GPyTorch switches to CG/Lanczos above 800 points by default; the exact GP must stay exact.
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(900, 1))
    y = np.sin(2 * x[:, 0]) + 0.1 * rng.normal(size=900)
    model = _fixed_model("rbf", x, y, np.array([0.8]), 1.0, 0.05, 0.0)
    model.set_train_data(torch.tensor(x), torch.tensor(y))
    K = _rbf(x, x, np.array([0.8]), 1.0) + 0.05 * np.eye(900)
    log_ml = -0.5 * y @ np.linalg.solve(K, y) - 0.5 * np.linalg.slogdet(K)[1] - 450 * math.log(2 * math.pi)
    assert model.loss(torch.tensor(x), torch.tensor(y)).item() == pytest.approx(-log_ml / 900, rel=1e-6)
    xs = np.array([[0.25], [4.0]])
    Ks = _rbf(x, xs, np.array([0.8]), 1.0)
    var = 1.0 - np.einsum("ij,ij->j", Ks, np.linalg.solve(K, Ks))
    np.testing.assert_allclose(model.predict(torch.tensor(xs)).epistemic.numpy(), var, rtol=1e-4, atol=1e-7)


def test_trainer_fits_noise_and_predict_dispatch(seed):
    torch.manual_seed(seed(0))
    x = torch.linspace(-3, 3, 80).unsqueeze(1)
    y = torch.sin(2 * x[:, 0]) + 0.1 * torch.randn(80)
    model = ExactGPRegression.from_data(x, y, kernel="matern52")
    history = Trainer(model, lr=0.1, epochs=60, batch_size=80, progress=False, seed=seed(0)).fit((x, y))
    assert history.losses[-1] < history.losses[0] - 0.5
    assert 0.05**2 < model.likelihood.noise.item() < 0.2**2
    # predict() through the shared API, in chunks, equals one direct call
    direct = model.predict(x)
    chunked = predict(model, x, batch_size=7)
    assert isinstance(chunked, RegressionPrediction)
    # float32: the chunks multiply by the cached solve in different shapes, so values of order 1 agree to ~1e-5
    torch.testing.assert_close(chunked.mean, direct.mean, rtol=1e-4, atol=5e-5)
    torch.testing.assert_close(chunked.epistemic, direct.epistemic, rtol=1e-3, atol=1e-5)
    # epistemic variance grows far from the data, the noise does not
    far = model.predict(torch.tensor([[0.0], [8.0]]))
    assert far.epistemic[1] > 10 * far.epistemic[0]
    assert far.aleatoric[0] == far.aleatoric[1]


def test_exact_gp_is_trained_full_batch():
    x = torch.randn(30, 1)
    model = ExactGPRegression.from_data(x, x[:, 0])
    with pytest.raises(InputError, match="full-batch"):
        Trainer(model, epochs=1, batch_size=10, progress=False).fit((x, x[:, 0]))


def test_exact_gp_bad_input():
    x = torch.randn(10, 2)
    y = torch.randn(10)
    model = ExactGPRegression.from_data(x, y)
    with pytest.raises(InputError, match="x"):
        model.predict(torch.randn(4, 3))  # wrong width
    with pytest.raises(InputError, match="y"):
        model.loss(x, torch.randn(9))  # mismatched length
    bad = x.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        ExactGPRegression.from_data(bad, y)
    with pytest.raises(InputError, match="NaN"):
        model.loss(x, torch.full((10,), float("nan")))
    with pytest.raises(InputError, match="num_train"):
        model.set_train_data(torch.randn(5, 2), torch.randn(5))
    with pytest.raises(InputError, match="kernel"):
        ExactGPRegression(2, 10, kernel="cosine")


def test_exact_gp_save_load_roundtrip(tmp_path):
    torch.manual_seed(1)
    x = torch.randn(25, 2)
    y = x.sum(1)
    model = ExactGPRegression.from_data(x, y, kernel="rbf")
    Trainer(model, lr=0.1, epochs=5, batch_size=25, progress=False).fit((x, y))
    path = bayesdl.save(model, tmp_path / "gp.safetensors")
    loaded = bayesdl.load(path)
    xs = torch.randn(6, 2)
    torch.testing.assert_close(loaded.predict(xs).mean, model.predict(xs).mean)
    torch.testing.assert_close(loaded.train_x, x)


def test_fit_on_other_data_than_from_data_predicts_from_the_fitted_data():
    """Before: hyperparameters came from the new data, predictions from the stored data (RMSE ~5 on sd-1 targets)."""
    g = torch.Generator().manual_seed(0)
    x_old = torch.rand(40, 1, generator=g) * 6 - 3
    x_new = torch.rand(40, 1, generator=g) * 6 - 3
    y_old, y_new = (
        5 * torch.cos(3 * x_old[:, 0]),
        torch.sin(2 * x_new[:, 0]) + 0.05 * torch.randn(40, generator=g),
    )
    model = ExactGPRegression.from_data(x_old, y_old)
    Trainer(model, lr=0.1, epochs=40, batch_size=40, progress=False, seed=0).fit((x_new, y_new))
    assert torch.equal(model.train_x.sort(0).values, x_new.sort(0).values)  # the fitted data are stored
    rmse = float((model.predict(x_new).mean - y_new).pow(2).mean().sqrt())
    assert rmse < 0.2  # interpolating its own training data with ~0.05 noise; the stale data gave ~5
    with pytest.raises(InputError, match="num_train=40"):
        Trainer(model, epochs=1, batch_size=100, progress=False).fit((x_new[:30], y_new[:30]))
