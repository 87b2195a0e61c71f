"""Sparse variational GP: interval coverage on GP data, ELBO scaling, classification predictions, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import Trainer
from bayesdl.inference.predictive import ClassificationPrediction, RegressionPrediction, predict
from bayesdl.models.gp import SparseVariationalGP


def _gp_draw(n: int, seed: int, lengthscale: float = 0.5, noise_sd: float = 0.2):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, n)
    K = np.exp(-0.5 * (x[:, None] - x[None]) ** 2 / lengthscale**2) + 1e-6 * np.eye(n)
    f = np.linalg.cholesky(K) @ rng.normal(size=n)
    y = f + noise_sd * rng.normal(size=n)
    return torch.tensor(x, dtype=torch.float32).unsqueeze(1), torch.tensor(y, dtype=torch.float32)


def test_svgp_95_intervals_cover_held_out_gp_data():
    x, y = _gp_draw(1200, seed=0)
    x_tr, y_tr, x_te, y_te = x[:400], y[:400], x[400:], y[400:]
    torch.manual_seed(0)
    gp = SparseVariationalGP(1, num_inducing=30).initialize_inducing_points(x_tr, seed=0)
    Trainer(gp, lr=0.05, epochs=60, batch_size=200, progress=False).fit((x_tr, y_tr))
    pred = predict(gp, x_te)
    assert isinstance(pred, RegressionPrediction)
    low, high = pred.interval(0.95)
    coverage = float(((y_te >= low) & (y_te <= high)).float().mean())
    assert 0.90 <= coverage <= 0.99
    assert 0.15 < gp.likelihood.noise.sqrt().item() < 0.27  # true noise sd 0.2
    torch.testing.assert_close(pred.aleatoric, gp.likelihood.noise.expand(800))


def test_minibatch_loss_charges_kl_once_per_epoch():
    torch.manual_seed(0)
    x = torch.randn(50, 2)
    y = x[:, 0]
    gp = SparseVariationalGP(2, num_inducing=5).initialize_inducing_points(x)
    gp.loss(x, y)  # the first call initialises q(u) to the prior
    with torch.no_grad():  # a non-trivial q(u) so that the KL is not zero
        gp.gp.base_strategy._variational_distribution.variational_mean.normal_()
    xb, yb = x[:10], y[:10]
    loss = gp.loss(xb, yb, num_data=50)
    kl = gp.gp.variational_strategy.kl_divergence()
    expected_ll = gp.likelihood.expected_log_prob(yb, gp(xb)).mean()
    assert kl.item() > 0.1
    assert loss.item() == pytest.approx((-expected_ll + kl / 50).item(), rel=1e-5)
    assert gp.loss(xb, yb, num_data=1000).item() < loss.item()  # more data, smaller KL share


def test_bernoulli_probabilities_match_probit_marginal():
    torch.manual_seed(0)
    x = torch.randn(200, 2)
    y = (x[:, 0] * x[:, 1] > 0).float()
    gp = SparseVariationalGP(2, num_inducing=20, likelihood="probit").initialize_inducing_points(x)
    Trainer(gp, lr=0.05, epochs=30, batch_size=100, progress=False).fit((x, y))
    xs = torch.randn(50, 2)
    pred = gp.predict(xs, num_samples=20000, seed=1)
    assert isinstance(pred, ClassificationPrediction)
    gp.eval()
    with torch.no_grad():
        f = gp(xs)
        exact = torch.distributions.Normal(0.0, 1.0).cdf(
            f.mean / (1 + f.variance).sqrt()
        )  # E[Phi(f)] for Gaussian f
    torch.testing.assert_close(pred.probs[:, 1], exact, atol=0.015, rtol=0)
    torch.testing.assert_close(pred.probs.sum(1), torch.ones(50))
    assert float((gp.predict(x).predicted == y.long()).float().mean()) > 0.85
    # seeded draws are reproducible
    torch.testing.assert_close(gp.predict(xs, 8, seed=3).probs, gp.predict(xs, 8, seed=3).probs)


def test_softmax_svgp_classifies_and_decomposes_entropy():
    torch.manual_seed(0)
    centres = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    labels = torch.arange(3).repeat_interleave(60)
    x = centres[labels] + 0.6 * torch.randn(180, 2)
    gp = SparseVariationalGP(
        2, num_inducing=15, likelihood="softmax", num_classes=3
    ).initialize_inducing_points(x)
    Trainer(gp, lr=0.05, epochs=40, batch_size=60, progress=False).fit((x, labels))
    pred = predict(gp, torch.cat([x, torch.tensor([[0.0, 30.0]])]), num_samples=200)
    assert pred.probs.shape == (181, 3)
    torch.testing.assert_close(pred.probs.sum(1), torch.ones(181))
    assert float((pred.predicted[:180] == labels).float().mean()) > 0.95
    # far from the data the latent functions revert to the prior: more epistemic uncertainty
    assert pred.mutual_information[180] > pred.mutual_information[:180].mean()
    # a batch whose size equals the number of classes is not transposed by the likelihood
    torch.testing.assert_close(
        gp.predict(x[:3], 50, seed=0).probs, gp.predict(x[:4], 50, seed=0).probs[:3], atol=0.1, rtol=0
    )


def test_svgp_bad_input():
    x = torch.randn(20, 2)
    gp = SparseVariationalGP(2, num_inducing=30)
    with pytest.raises(InputError, match="too few"):
        gp.initialize_inducing_points(x)
    with pytest.raises(InputError, match="too few"):
        Trainer(gp, epochs=1, batch_size=10, progress=False).fit((x, x[:, 0]))
    gp = SparseVariationalGP(2, num_inducing=5).initialize_inducing_points(x)
    with pytest.raises(InputError, match="x"):
        gp.loss(torch.randn(20, 3), x[:, 0])  # wrong width
    with pytest.raises(InputError, match="y"):
        gp.loss(x, torch.randn(19))
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        gp.predict(bad)
    with pytest.raises(InputError, match="NaN"):
        gp.loss(x, torch.full((20,), float("nan")))
    binary = SparseVariationalGP(2, num_inducing=5, likelihood="probit")
    with pytest.raises(InputError, match="binary"):
        binary.loss(x, torch.full((20,), 0.5))
    multi = SparseVariationalGP(2, num_inducing=5, likelihood="softmax", num_classes=3)
    with pytest.raises(InputError, match="class labels"):
        multi.loss(x, torch.full((20,), 3))
    with pytest.raises(InputError, match="num_classes"):
        SparseVariationalGP(2, num_inducing=5, likelihood="softmax")
    with pytest.raises(InputError, match="likelihood"):
        SparseVariationalGP(2, num_inducing=5, likelihood="poisson")
    with pytest.raises(InputError, match="num_samples"):
        gp.predict(x, num_samples=0)


def test_svgp_save_load_roundtrip(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(40, 2)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    gp = SparseVariationalGP(
        2, num_inducing=8, likelihood="softmax", num_classes=3, kernel="matern32"
    ).initialize_inducing_points(x)
    Trainer(gp, lr=0.05, epochs=3, batch_size=20, progress=False).fit((x, y))
    loaded = bayesdl.load(bayesdl.save(gp, tmp_path / "svgp.safetensors"))
    torch.testing.assert_close(loaded.inducing_points, gp.inducing_points)
    torch.testing.assert_close(loaded.predict(x, 16, seed=0).probs, gp.predict(x, 16, seed=0).probs)


def test_probit_is_the_name_of_the_binary_likelihood_and_bernoulli_still_works(tmp_path):
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    with pytest.warns(DeprecationWarning, match="probit"):
        old = SparseVariationalGP(2, num_inducing=5, likelihood="bernoulli")
    assert old.likelihood_name == "probit" and old.config["likelihood"] == "probit"
    # a checkpoint written before the rename stores likelihood="bernoulli" in its config: it still loads
    import json

    from bayesdl.io import container

    gp = SparseVariationalGP(2, num_inducing=5, likelihood="probit").initialize_inducing_points(x)
    gp.loss(x, (x[:, 0] > 0).float())  # the first call initialises q(u); save the initialised state
    path = bayesdl.save(gp, tmp_path / "gp.safetensors")
    header = container.read_header(path, "bayesdl-model/1")
    document = json.loads(json.dumps(header.document))
    document["config"]["likelihood"] = "bernoulli"
    tensors = container.read_tensors(header, "cpu")
    container.write(tmp_path / "old.safetensors", tensors, document)
    loaded, current = bayesdl.load(tmp_path / "old.safetensors"), bayesdl.load(path)
    assert loaded.likelihood_name == "probit" and loaded.config == current.config
    assert torch.equal(loaded.predict(x, seed=0).probs, current.predict(x, seed=0).probs)
