"""Laplace and SWAG/MultiSWAG through bayesdl.save / bayesdl.load (issue 23): the fitted curvature or moments are
stored as checked tensors beside the weights (no pickle, no code from the file), and predictions after a round
trip are bit-identical."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

import bayesdl
from bayesdl.errors import CheckpointError, InputError
from bayesdl.inference.swag_collector import SWAGCollector
from bayesdl.models import MLP, PlainNet
from bayesdl.models.laplace import Laplace
from bayesdl.models.swag import SWAG, MultiSWAG


def _data(classes=None):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 3, generator=g)
    if classes:
        return x, torch.randint(0, classes, (30,), generator=g)
    return x, x[:, 0] - x[:, 1] + 0.2 * torch.randn(30, generator=g)


@pytest.mark.parametrize(
    "hessian,subset,kind",
    [
        ("kron", "last_layer", "classification"),
        ("diag", "all", "classification"),
        ("full", "last_layer", "regression"),
        ("lowrank", "all", "regression"),
    ],
)
def test_laplace_round_trip_gives_bit_identical_predictions(tmp_path, hessian, subset, kind):
    x, y = _data(classes=3 if kind == "classification" else None)
    torch.manual_seed(0)
    if kind == "classification":
        model = PlainNet(MLP(3, [8], 3))
    else:
        model = PlainNet(MLP(3, [8], 1), likelihood="homoscedastic", noise_std=0.4)
    la = Laplace(model, subset=subset, hessian=hessian, rank=5).fit((x, y))
    la.prior_precision = 0.37  # as optimize_prior_precision would leave it
    back = bayesdl.load(bayesdl.save(la, tmp_path / "la.safetensors"))
    assert (
        isinstance(back, Laplace)
        and back.prior_precision == la.prior_precision
        and back.noise_std == la.noise_std
    )
    assert back.num_data == la.num_data and back.log_likelihood_map == la.log_likelihood_map
    a = la.predictive_samples(x, 7, predictive="nn", seed=1)
    b = back.predictive_samples(x, 7, predictive="nn", seed=1)
    if kind == "classification":
        assert torch.equal(a.probs, b.probs) and torch.equal(la.probs(x), back.probs(x))
    else:
        assert torch.equal(a.means, b.means)
        pa, pb = la.predict_regression(x), back.predict_regression(x)
        assert (
            torch.equal(pa.mean, pb.mean)
            and torch.equal(pa.epistemic, pb.epistemic)
            and torch.equal(pa.aleatoric, pb.aleatoric)
        )
    assert float(back.log_marginal_likelihood()) == float(la.log_marginal_likelihood())


def _swag(seed=0, batch_norm=False):
    torch.manual_seed(seed)
    model = PlainNet(MLP(3, [8], 3, norm="batch" if batch_norm else None))
    collector = SWAGCollector(model, max_rank=4)
    g = torch.Generator().manual_seed(seed)
    for _ in range(6):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=g))
        collector.after_step()
    return model, collector


@pytest.mark.parametrize("covariance", ["lowrank", "diag"])
def test_swag_and_multiswag_round_trips_give_bit_identical_draws(tmp_path, covariance):
    x, _ = _data()
    swag = SWAG(*_swag(0), covariance=covariance)
    back = bayesdl.load(bayesdl.save(swag, tmp_path / "swag.safetensors"))
    a = swag.predictive_samples(x, 5, generator=torch.Generator().manual_seed(3)).probs
    b = back.predictive_samples(x, 5, generator=torch.Generator().manual_seed(3)).probs
    assert torch.equal(a, b) and back.covariance == covariance
    multi = MultiSWAG([swag, SWAG(*_swag(1), covariance=covariance)])
    back = bayesdl.load(bayesdl.save(multi, tmp_path / "multi.safetensors"))
    assert isinstance(back, MultiSWAG) and len(back.members) == 2
    da, db = multi.predictive_draws(x, 4, seed=2), back.predictive_draws(x, 4, seed=2)
    assert torch.equal(da.probs, db.probs) and torch.equal(da.parameters["theta"], db.parameters["theta"])


def test_swag_with_batch_norm_keeps_its_refresh_data(tmp_path):
    x, _ = _data()
    model, collector = _swag(0, batch_norm=True)
    swag = SWAG(model, collector, bn_data=[x[:15], x[15:]])
    back = bayesdl.load(bayesdl.save(swag, tmp_path / "bn.safetensors"))
    g = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    assert torch.equal(
        swag.predictive_samples(x, 3, generator=g()).probs, back.predictive_samples(x, 3, generator=g()).probs
    )
    swag.bn_data = iter([x])  # a one-shot iterator cannot be stored as tensors
    with pytest.raises(InputError, match="bn_data"):
        bayesdl.save(swag, tmp_path / "bad.safetensors")


def _tamper(path, edit):
    tensors = load_file(str(path))
    with open(path, "rb") as f:
        header = json.loads(f.read(8 + int.from_bytes(open(path, "rb").read(8), "little"))[8:])
    metadata = header["__metadata__"]
    edit(tensors, metadata)
    save_file(tensors, str(path), metadata=metadata)


def test_a_tampered_fitted_state_is_refused(tmp_path):
    x, y = _data(classes=3)
    la = Laplace(PlainNet(MLP(3, [8], 3)), hessian="diag").fit((x, y))
    path = bayesdl.save(la, tmp_path / "la.safetensors")
    key = next(k for k in load_file(str(path)) if k.endswith("__fitted__.diagonal"))
    _tamper(path, lambda t, m: t.__setitem__(key, torch.zeros(3, dtype=t[key].dtype)))
    with pytest.raises(CheckpointError, match="diagonal"):
        bayesdl.load(path)
    path = bayesdl.save(la, tmp_path / "la2.safetensors")
    _tamper(path, lambda t, m: t.__setitem__(key, torch.full_like(t[key], float("nan"))))
    with pytest.raises(CheckpointError, match="NaN"):
        bayesdl.load(path)
