import json
import os
import pickle
import struct

import pyro
import pytest
import torch

import bayesdl
from bayesdl.errors import CheckpointError
from bayesdl.io import load_state, save_state, serializable


@serializable
class Net(torch.nn.Module):
    def __init__(self, sizes=(4, 8, 2), scale: float = 1.0, head=None):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.Tanh(), torch.nn.Linear(sizes[1], sizes[2]))
        self.register_buffer("scale", torch.tensor(scale))
        self.head = head

    def forward(self, x):
        out = self.body(x) * self.scale
        return out if self.head is None else self.head(out)


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    torch.manual_seed(0)
    model = Net(sizes=(4, 16, 3), scale=0.5, head=Net(sizes=(3, 5, 2)))
    x = torch.randn(10, 4)
    path = bayesdl.save(model, tmp_path / "net.safetensors")
    loaded = bayesdl.load(path)
    assert type(loaded) is Net and loaded.config["sizes"] == (4, 16, 3)
    assert torch.equal(model(x), loaded(x))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_pyro_model_round_trip(tmp_path):
    from bayesdl.models.logistic import BayesianLogisticRegression

    model = BayesianLogisticRegression(5, 3, prior_scale=2.5)
    loaded = bayesdl.load(bayesdl.save(model, tmp_path / "m.safetensors"))
    assert loaded.prior_scale == 2.5 and loaded.num_classes == 3
    pyro.set_rng_seed(1)
    a = model.model(torch.ones(2, 5))
    pyro.set_rng_seed(1)
    b = loaded.model(torch.ones(2, 5))
    assert torch.equal(a, b)


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch " + str(_Boom.marker),))


def test_a_pickle_crafted_to_run_code_is_refused_and_runs_nothing(tmp_path):
    _Boom.marker = tmp_path / "pwned"
    evil = tmp_path / "model.safetensors"
    evil.write_bytes(pickle.dumps({"weights": _Boom()}))
    with pytest.raises(CheckpointError, match="never unpickles"):
        bayesdl.load(evil)
    torch_file = tmp_path / "torch.pt"
    with open(torch_file, "wb") as f:
        torch.save({"weights": _Boom()}, f)
    with pytest.raises(CheckpointError):
        bayesdl.load(torch_file)
    with pytest.raises(CheckpointError):
        load_state(torch_file)
    assert not _Boom.marker.exists()


def _rewrite_header(path, mutate):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["bayesdl"])
    mutate(meta)
    header["__metadata__"]["bayesdl"] = json.dumps(meta)
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + raw[8 + n :])


def test_tampered_headers_are_refused(tmp_path):
    path = bayesdl.save(Net(), tmp_path / "net.safetensors")
    _rewrite_header(path, lambda m: m.update({"class": "os.system"}))
    with pytest.raises(CheckpointError, match="unknown or unsafe class"):
        bayesdl.load(path)
    path = bayesdl.save(Net(), tmp_path / "net2.safetensors")
    _rewrite_header(path, lambda m: m["config"].update({"sizes": [4, 9, 2]}))
    with pytest.raises(CheckpointError, match="do not match"):
        bayesdl.load(path)
    path = bayesdl.save(Net(), tmp_path / "net3.safetensors")
    path.write_bytes(path.read_bytes()[:-7])  # truncated tensor data
    with pytest.raises(CheckpointError):
        bayesdl.load(path)
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        bayesdl.load(tmp_path / "absent.safetensors")
    state = save_state({"epoch": 1}, tmp_path / "state.safetensors")
    with pytest.raises(CheckpointError, match="bayesdl-model"):
        bayesdl.load(state)


def test_unsaveable_models_fail_before_writing(tmp_path):
    with pytest.raises(CheckpointError, match="serializable"):
        bayesdl.save(torch.nn.Linear(2, 2), tmp_path / "lin.safetensors")
    with pytest.raises(CheckpointError, match="JSON"):
        bayesdl.save(Net(head=torch.nn.Linear(2, 2)), tmp_path / "mixed.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_state_round_trip_keeps_nested_structure(tmp_path):
    state = {"epoch": 3, "opt": {"state": {0: {"m": torch.arange(3.0)}}, "groups": [{"lr": 0.1}]},
             "rng": (1, [2, 3], None), "flag": True}
    loaded = load_state(save_state(state, tmp_path / "s.safetensors"))
    assert loaded["epoch"] == 3 and loaded["rng"] == (1, [2, 3], None) and loaded["flag"] is True
    assert torch.equal(loaded["opt"]["state"][0]["m"], torch.arange(3.0))
