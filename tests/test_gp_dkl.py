"""Deep kernel learning: beats an RBF exact GP on a step function; custom extractors; errors; save/load."""

from __future__ import annotations

import math

import pytest
import torch
from stats_testing import z_bound

import bayesdl
from bayesdl.errors import CheckpointError, InputError
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import ClassificationPrediction, predict
from bayesdl.models.gp import DeepKernelGP, ExactGPRegression


def _step_data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 2 - 1
    y = torch.where(x[:, 0] > 0, 1.0, -1.0) + 0.05 * torch.randn(n, generator=g)
    return x, y


def _point_nll(pred, y) -> torch.Tensor:
    return 0.5 * torch.log(2 * math.pi * pred.variance) + 0.5 * (y - pred.mean) ** 2 / pred.variance


def test_dkl_fits_a_step_better_than_rbf_exact_gp(seed):
    x, y = _step_data(200, seed=seed(0))
    x_te, y_te = _step_data(500, seed=seed(1))
    exact = ExactGPRegression.from_data(x, y, kernel="rbf")
    Trainer(exact, lr=0.1, epochs=100, batch_size=200, progress=False, seed=seed(0)).fit((x, y))
    torch.manual_seed(seed(0))
    dkl = DeepKernelGP(
        num_features=2, num_inducing=20, num_inputs=1, hidden_sizes=[32, 32]
    ).initialize_inducing_points(x)
    Trainer(dkl, lr=0.03, epochs=150, batch_size=50, progress=False, seed=seed(0)).fit((x, y))
    # a sign test over the 500 test points: DKL's per-point NLL is lower than the RBF GP's on more than half of them,
    # beyond the one-sided binomial bound at the suite's false-failure rate (the mean gap is heavy-tailed near the
    # step: on sweep seed 1 it was 0.50 ± 0.42). Measured fractions at lr=0.03: 0.70 and 0.97 on sweep seeds 1 and 11
    # (the bound is 0.595); with lr=0.01 sweep seed 11 had a mean gap of only 0.076 nats.
    better = _point_nll(predict(exact, x_te), y_te) > _point_nll(predict(dkl, x_te), y_te)
    bound = 0.5 + z_bound(two_sided=False) * math.sqrt(0.25 / len(better))
    assert float(better.float().mean()) > bound, (float(better.float().mean()), bound)


def test_dkl_accepts_any_feature_extractor_for_images():
    torch.manual_seed(0)
    extractor = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3)
    )
    dkl = DeepKernelGP(
        num_features=3, num_inducing=6, likelihood="softmax", num_classes=4, feature_extractor=extractor
    )
    x = torch.rand(40, 1, 6, 6)
    y = torch.arange(4).repeat(10)
    dkl.initialize_inducing_points(x)
    history = Trainer(dkl, lr=0.01, epochs=2, batch_size=20, progress=False).fit((x, y))
    assert all(math.isfinite(v) for v in history.losses)
    pred = predict(dkl, x[:5], num_samples=8)
    assert isinstance(pred, ClassificationPrediction) and pred.probs.shape == (5, 4)
    # the extractor is trained jointly with the GP
    before = [p.detach().clone() for p in extractor.parameters()]
    Trainer(dkl, lr=0.01, epochs=1, batch_size=20, progress=False).fit((x, y))
    assert any(not torch.equal(b, p) for b, p in zip(before, extractor.parameters()))
    # a plain nn.Sequential extractor cannot be rebuilt from JSON: saving says so
    with pytest.raises(CheckpointError, match="not JSON"):
        bayesdl.save(dkl, "/tmp/never-written.safetensors")


def test_dkl_bad_input():
    with pytest.raises(InputError, match="num_inputs"):
        DeepKernelGP(num_features=2)
    with pytest.raises(InputError, match="feature_extractor"):
        DeepKernelGP(num_features=2, feature_extractor="mlp")
    dkl = DeepKernelGP(num_features=2, num_inducing=10, num_inputs=3, hidden_sizes=[8])
    with pytest.raises(InputError, match="too few"):
        dkl.initialize_inducing_points(torch.randn(5, 3))
    with pytest.raises(InputError, match="x"):
        dkl.predict(torch.randn(4, 2))
    with pytest.raises(InputError, match="NaN"):
        dkl.predict(torch.full((4, 3), float("nan")))
    wrong = DeepKernelGP(num_features=2, num_inducing=3, feature_extractor=torch.nn.Linear(3, 5))
    with pytest.raises(InputError, match="feature extractor"):
        wrong.predict(torch.randn(4, 3))


def test_dkl_default_mlp_save_load_roundtrip(tmp_path):
    torch.manual_seed(0)
    x, y = _step_data(30, seed=2)
    dkl = DeepKernelGP(
        num_features=2, num_inducing=5, num_inputs=1, hidden_sizes=[8, 8], kernel="matern52"
    ).initialize_inducing_points(x)
    Trainer(dkl, lr=0.01, epochs=2, batch_size=10, progress=False).fit((x, y))
    loaded = bayesdl.load(bayesdl.save(dkl, tmp_path / "dkl.safetensors"))
    a, b = dkl.predict(x), loaded.predict(x)
    torch.testing.assert_close(a.mean, b.mean)
    torch.testing.assert_close(a.epistemic, b.epistemic)
