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
        self.body = torch.nn.Sequential(
            torch.nn.Linear(sizes[0], sizes[1]), torch.nn.Tanh(), torch.nn.Linear(sizes[1], sizes[2])
        )
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


def _rewrite_header(path, mutate, text_replace=None):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["bayesdl"])
    mutate(meta)
    header["__metadata__"]["bayesdl"] = json.dumps(meta)
    if text_replace is not None:  # for JSON too deep for json.dumps to write
        header["__metadata__"]["bayesdl"] = header["__metadata__"]["bayesdl"].replace(*text_replace)
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
    state = {
        "epoch": 3,
        "opt": {"state": {0: {"m": torch.arange(3.0)}}, "groups": [{"lr": 0.1}]},
        "rng": (1, [2, 3], None),
        "flag": True,
    }
    loaded = load_state(save_state(state, tmp_path / "s.safetensors"))
    assert loaded["epoch"] == 3 and loaded["rng"] == (1, [2, 3], None) and loaded["flag"] is True
    assert torch.equal(loaded["opt"]["state"][0]["m"], torch.arange(3.0))


# ---- issue 17 section 2: loading an untrusted file runs nothing ---------------------------------------------


def _small_mlp_file(tmp_path, name="mlp.safetensors"):
    from bayesdl.models.nets import MLP

    torch.manual_seed(0)
    return bayesdl.save(MLP(3, [4], 2), tmp_path / name)


def _header_of(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(json.loads(raw[8 : 8 + n])["__metadata__"]["bayesdl"])


_NO_SIDE_EFFECTS = """
import sys, json
import matplotlib
matplotlib.use("svg")
import bayesdl
from bayesdl.errors import CheckpointError
outcomes = []
for path in sys.argv[1:]:
    try:
        bayesdl.load(path)
        outcomes.append("loaded")
    except CheckpointError:
        outcomes.append("refused")
gained = sorted(m for m in sys.modules if m in ("bayesdl.__main__", "bayesdl.cli") or m.startswith("bayesdl.experiments"))
print(json.dumps({"outcomes": outcomes, "gained": gained, "backend": matplotlib.get_backend()}))
"""


def test_a_file_naming_bayesdl_main_or_experiments_imports_nothing(tmp_path):
    import subprocess
    import sys

    paths = []
    for i, name in enumerate(
        [
            "bayesdl.__main__.Anything",
            "bayesdl.experiments.svi_logistic.Anything",
            "bayesdl.experiments.report.Anything",
            "bayesdl.cli.main",
        ]
    ):
        path = _small_mlp_file(tmp_path, f"evil{i}.safetensors")
        _rewrite_header(path, lambda m, name=name: m.update({"class": name}))
        paths.append(str(path))
    done = subprocess.run(
        [sys.executable, "-c", _NO_SIDE_EFFECTS, *paths],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.getcwd(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"outcomes": ["refused"] * 4, "gained": [], "backend": "svg"}


def test_filling_the_registry_imports_only_model_packages():
    import subprocess
    import sys

    script = (
        "import sys, bayesdl.io.registry as r; r._populate(); "
        "print(sorted(m for m in sys.modules if m.startswith(('bayesdl.experiments', 'bayesdl.cli', "
        "'bayesdl.__main__', 'matplotlib'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=os.getcwd()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_new_files_name_the_stable_key_and_old_full_names_still_load(tmp_path, monkeypatch):
    from bayesdl.io import aliases
    from bayesdl.models.nets import MLP

    path = _small_mlp_file(tmp_path)
    assert _header_of(path)["class"] == "MLP"  # independent of the module path
    x = torch.linspace(-1, 1, 6).reshape(2, 3)
    expected = bayesdl.load(path)(x)
    _rewrite_header(path, lambda m: m.update({"class": "bayesdl.models.nets.MLP"}))  # a file from bayesdl 0.1
    assert torch.equal(bayesdl.load(path)(x), expected)
    # a class that has since moved: its old path is only in the alias table
    monkeypatch.setitem(aliases.LEGACY_CLASS_NAMES, "bayesdl.models.old_home.MLP", "MLP")
    _rewrite_header(path, lambda m: m.update({"class": "bayesdl.models.old_home.MLP"}))
    assert type(bayesdl.load(path)) is MLP


def test_the_alias_table_resolves_every_legacy_name_to_a_registered_class():
    from bayesdl.io.aliases import LEGACY_CLASS_NAMES
    from bayesdl.io.registry import _populate, class_key, registered_classes

    _populate()
    classes = registered_classes()
    assert len(LEGACY_CLASS_NAMES) >= 48
    for old, key in LEGACY_CLASS_NAMES.items():
        assert key in classes, (
            old
        )  # a renamed class keeps its key (or gets a new alias), so the old path resolves
        assert class_key(classes[key]) == key, old
    bayesdl_keys = [k for k, c in classes.items() if c.__module__.startswith("bayesdl.")]
    assert all("." not in k for k in bayesdl_keys)  # no module path in a bayesdl key


class _RefuseBigCpuAllocations(torch.utils._python_dispatch.TorchDispatchMode):
    """Records every request for more than 64 MB of CPU tensor memory and serves it on the meta device."""

    def __init__(self):
        super().__init__()
        self.big = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func.overloadpacket.__name__ in ("empty", "zeros", "ones", "full", "empty_strided") and args:
            size = args[0] if isinstance(args[0], (list, tuple)) else [args[0]]
            numel = 1
            for d in size:
                numel *= int(d)
            if numel * 4 > 64e6 and str(kwargs.get("device", "cpu")) != "meta":
                self.big.append(tuple(size))
                kwargs["device"] = torch.device("meta")
        return func(*args, **kwargs)


def test_a_tiny_file_declaring_a_huge_network_is_refused_before_allocating(tmp_path):
    from bayesdl.models.nets import MLP

    path = bayesdl.save(MLP(1, [1], 1), tmp_path / "tiny.safetensors")
    _rewrite_header(path, lambda m: m["config"].update({"in_features": 50000, "hidden_sizes": [50000]}))
    assert path.stat().st_size < 1000
    guard = _RefuseBigCpuAllocations()
    with guard, pytest.raises(CheckpointError, match="do not match"):
        bayesdl.load(path)
    assert guard.big == []


def test_a_file_declaring_huge_gp_data_is_refused_under_the_allocation_budget(tmp_path):
    from bayesdl.models.gp.exact import ExactGPRegression

    # GPyTorch constructors read tensor values, so they cannot be built on the meta device
    path = bayesdl.save(ExactGPRegression(2, 3), tmp_path / "gp.safetensors")
    _rewrite_header(path, lambda m: m["config"].update({"num_train": 10**9}))
    guard = _RefuseBigCpuAllocations()
    with guard, pytest.raises(CheckpointError, match="allocates more than"):
        bayesdl.load(path)
    assert guard.big == []


def _deep_list(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda m: m.update({"class": ["MLP"]}), id="list-as-class"),
        pytest.param(lambda m: m.update({"class": {"MLP": 1}}), id="dict-as-class"),
        pytest.param(lambda m: m.pop("class"), id="missing-class"),
        pytest.param(lambda m: m["config"].update({"bogus": 1}), id="unknown-keyword"),
        pytest.param(lambda m: m["config"].pop("in_features"), id="missing-keyword"),
        pytest.param(lambda m: m.update({"config": [3, [4], 2]}), id="non-dict-config"),
        pytest.param(lambda m: m["config"].update({"hidden": _deep_list(200)}), id="deep-nesting"),
        pytest.param(lambda m: m["config"].update({"hidden": "DEEP"}), id="json-recursion"),
        pytest.param(lambda m: m["config"].update({"hidden": "four"}), id="wrong-type"),
        pytest.param(
            lambda m: m["config"].update({"in_features": {"__bayesdl_module__": {"class": "os.system"}}}),
            id="nested-unsafe-class",
        ),
        pytest.param(
            lambda m: m["config"].update({"in_features": {"__bayesdl_module__": [1]}}), id="bad-module-entry"
        ),
        pytest.param(lambda m: m["config"].update({"in_features": {"__tuple__": 5}}), id="bad-tuple-entry"),
    ],
)
def test_malformed_configs_raise_checkpoint_error(tmp_path, mutate):
    path = _small_mlp_file(tmp_path)
    _rewrite_header(path, mutate, text_replace=('"DEEP"', "[" * 100000 + "1" + "]" * 100000))
    with pytest.raises(CheckpointError):
        bayesdl.load(path)


def test_loading_leaves_the_global_random_generator_alone(tmp_path):
    path = _small_mlp_file(tmp_path)
    before = torch.random.get_rng_state()
    bayesdl.load(path)
    assert torch.equal(torch.random.get_rng_state(), before)


# ---- issue 17 section 5: files --------------------------------------------------------------------------------

_KILLED_WRITER = """
import os, signal, sys
from bayesdl.io import atomic_write_bytes
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # die after writing, before the rename
atomic_write_bytes(sys.argv[1], b"half-done" * 1000)
"""


def test_a_writer_killed_mid_write_leaves_no_temporary_file_after_the_next_write(tmp_path):
    import signal
    import subprocess
    import sys

    from bayesdl.io import atomic_write_bytes

    target = tmp_path / "ckpt.safetensors"
    atomic_write_bytes(target, b"old")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _KILLED_WRITER, str(target)], timeout=300, cwd=os.getcwd()
        )
        assert done.returncode == -signal.SIGKILL
    leftovers = [p for p in tmp_path.iterdir() if p != target]
    assert len(leftovers) == 2 and all(".bayesdl-tmp-" in p.name for p in leftovers)
    assert target.read_bytes() == b"old"  # the killed writers never replaced the file
    atomic_write_bytes(target, b"new")
    assert sorted(tmp_path.iterdir()) == [target] and target.read_bytes() == b"new"


def test_stale_temporary_cleanup_spares_live_writers_and_other_files(tmp_path):
    import subprocess
    import time

    from bayesdl.io import atomic, atomic_write_bytes

    target = tmp_path / "m.json"
    live = subprocess.Popen(["sleep", "60"])
    try:
        host = atomic._host_tag()
        alive = tmp_path / f".m.json.bayesdl-tmp-{host}-{live.pid}-abcdef"
        elsewhere = tmp_path / f".m.json.bayesdl-tmp-00000000-{live.pid}-abcdef"
        old_elsewhere = tmp_path / ".m.json.bayesdl-tmp-00000000-1-abcdef"
        legacy_old = tmp_path / ".m.json.abcd1234.tmp"
        legacy_new = tmp_path / ".m.json.wxyz5678.tmp"
        unrelated = [
            tmp_path / ".other.bayesdl-tmp-00000000-1-ab",
            tmp_path / "m.json.bak",
            tmp_path / ".m.json.tmp",
        ]
        for p in [alive, elsewhere, old_elsewhere, legacy_old, legacy_new, *unrelated]:
            p.write_bytes(b"x")
        day_ago = time.time() - 2 * atomic.STALE_AFTER_SECONDS
        for p in [old_elsewhere, legacy_old, *unrelated]:
            os.utime(p, (day_ago, day_ago))
        atomic_write_bytes(target, b"{}")
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {"m.json", alive.name, elsewhere.name, legacy_new.name, *(p.name for p in unrelated)}
    finally:
        live.kill()
        live.wait()
    atomic_write_bytes(target, b"{}")  # the writer is gone now
    assert alive.name not in {p.name for p in tmp_path.iterdir()}


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_honour_the_umask(tmp_path, umask, mode):
    from bayesdl.io import atomic_write_bytes, atomic_write_json

    old = os.umask(umask)
    try:
        written = [
            bayesdl.save(Net(), tmp_path / "net.safetensors"),
            save_state({"epoch": 1}, tmp_path / "ckpt.safetensors"),
            atomic_write_json(tmp_path / "metrics.json", {"nll": 1.0}),
            atomic_write_bytes(tmp_path / "report.html", b"<html></html>"),
        ]
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in written} == {oct(mode)}


def test_saving_to_a_folder_or_an_unwritable_path_names_the_path(tmp_path, monkeypatch):
    import errno

    from bayesdl.errors import InputError

    folder = tmp_path / "runs"
    folder.mkdir()
    with pytest.raises(InputError, match="runs.*folder"):
        bayesdl.save(Net(), folder)
    with pytest.raises(InputError, match="runs"):
        save_state({"epoch": 1}, folder)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InputError, match="a-file"):
        bayesdl.save(Net(), blocker / "net.safetensors")

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(InputError, match="locked.safetensors.*Permission denied"):
        bayesdl.save(Net(), tmp_path / "locked.safetensors")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "runs"]


# ---- issue 18 section 3: saving what Pyro trains ----------------------------------------------------------------

_GUIDES = {
    "AutoNormal": lambda m: pyro.infer.autoguide.AutoNormal(m, init_scale=0.05),
    "AutoDiagonalNormal": lambda m: pyro.infer.autoguide.AutoDiagonalNormal(m, init_scale=0.05),
    "AutoLowRankMultivariateNormal": lambda m: pyro.infer.autoguide.AutoLowRankMultivariateNormal(m, rank=2),
    "AutoIAFNormal": lambda m: pyro.infer.autoguide.AutoIAFNormal(m, hidden_dim=[20], num_transforms=2),
}


def _train_a_little(model, guide, x, y, steps=5):
    """A few SVI steps, the way a Pyro tutorial writes them (global parameter store) or bayesdl does (local)."""
    guide(x, y)
    if pyro.settings.get("module_local_params"):
        params = list(guide.parameters())
    else:
        unique = {id(p): p for p in (pyro.param(n).unconstrained() for n in pyro.get_param_store().keys())}
        params = list(unique.values())
    optimizer = torch.optim.Adam(params, lr=0.05)
    elbo = pyro.infer.Trace_ELBO()
    for _ in range(steps):
        optimizer.zero_grad()
        elbo.differentiable_loss(model, guide, x, y).backward()
        optimizer.step()


def _predictions(model, guide, x):
    pyro.set_rng_seed(3)
    draws = pyro.infer.Predictive(model, guide=guide, num_samples=7, return_sites=["_RETURN"])(x)["_RETURN"]
    if isinstance(guide, pyro.infer.autoguide.AutoIAFNormal):  # a flow has no closed-form quantiles
        pyro.set_rng_seed(4)
        return draws, {"draw": guide.sample_latent()}
    return draws, guide.quantiles([0.1, 0.5, 0.9])


@pytest.mark.parametrize("local", [True, False], ids=["module-local-params", "global-param-store"])
@pytest.mark.parametrize("name", list(_GUIDES))
def test_trained_autoguides_round_trip_with_identical_predictions(tmp_path, name, local):
    from bayesdl.io import guide_model
    from bayesdl.models.logistic import BayesianLogisticRegression

    torch.manual_seed(0)
    x, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    with pyro.settings.context(module_local_params=local):
        pyro.clear_param_store()
        model = BayesianLogisticRegression(5, 3, prior_scale=2.0)
        guide = _GUIDES[name](model)
        _train_a_little(model, guide, x, y)
        expected_draws, expected_quantiles = _predictions(model, guide, x[:6])
        path = bayesdl.save(guide, tmp_path / "guide.safetensors")
        if not local:  # the store moves on after saving: the loaded guide must not pick up these values
            _train_a_little(model, guide, x, y, steps=3)
        loaded = bayesdl.load(path)
        assert type(loaded) is type(guide)
        rebuilt = guide_model(loaded)
        assert type(rebuilt) is BayesianLogisticRegression and rebuilt.prior_scale == 2.0
        draws, quantiles = _predictions(rebuilt, loaded, x[:6])
    assert torch.equal(draws, expected_draws)
    assert quantiles.keys() == expected_quantiles.keys()
    assert all(torch.equal(quantiles[k], expected_quantiles[k]) for k in quantiles)
    pyro.clear_param_store()


def test_a_saved_guide_reloads_in_the_other_pyro_setting_and_through_bayesdl_predict(tmp_path):
    from bayesdl.inference.predictive import predict
    from bayesdl.io import guide_model
    from bayesdl.models.nets import MLP
    from bayesdl.models.pyro_bnn import PyroBNN, PyroPosterior

    torch.manual_seed(1)
    x, y = torch.randn(30, 2), torch.randint(0, 3, (30,))
    with pyro.settings.context(module_local_params=True):
        model = PyroBNN(MLP(2, [4], 3))
        guide = model.autoguide()  # AutoNormal over poutine.block(model, hide=["y"])
        _train_a_little(model, guide, x, y)
        pyro.set_rng_seed(0)
        expected = predict(PyroPosterior(model, guide), x, num_samples=5).probs
        path = bayesdl.save(guide, tmp_path / "bnn-guide.safetensors")
    with pyro.settings.context(module_local_params=False):
        pyro.clear_param_store()
        loaded = bayesdl.load(path)
        pyro.set_rng_seed(0)
        again = predict(PyroPosterior(guide_model(loaded), loaded), x, num_samples=5).probs
    assert torch.equal(again, expected)
    header = _header_of(path)
    assert header["wrapping"]["block"]["hide"] == ["y"]
    inputs = sorted(s["shape"] for k, s in _tensor_table(path).items() if k.startswith("input."))
    assert inputs == [[1], [1, 2]]  # x and y cut to one example: the weights' shapes do not depend on N
    pyro.clear_param_store()


def _tensor_table(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    table = json.loads(raw[8 : 8 + n])
    table.pop("__metadata__")
    return table


def test_guides_that_cannot_be_saved_are_refused_before_writing(tmp_path):
    from bayesdl.models.logistic import BayesianLogisticRegression

    model = BayesianLogisticRegression(3, 2)
    with pytest.raises(CheckpointError, match="untrained"):
        bayesdl.save(pyro.infer.autoguide.AutoNormal(model), tmp_path / "g.safetensors")

    def plain_model(x):
        pyro.sample("w", pyro.distributions.Normal(0.0, 1.0))

    guide = pyro.infer.autoguide.AutoNormal(plain_model)
    from bayesdl.nn.pyro_params import module_local_params

    with module_local_params(
        guide
    ):  # the guide was built with Pyro's global setting, which bayesdl leaves alone
        guide(torch.zeros(2))
    with pytest.raises(CheckpointError, match="@serializable"):
        bayesdl.save(guide, tmp_path / "g.safetensors")
    assert list(tmp_path.iterdir()) == []


def _saved_guide(tmp_path):
    from bayesdl.models.logistic import BayesianLogisticRegression

    with pyro.settings.context(module_local_params=True):
        model = BayesianLogisticRegression(3, 2)
        guide = pyro.infer.autoguide.AutoIAFNormal(model, hidden_dim=[10])
        guide(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long))
        return bayesdl.save(guide, tmp_path / "guide.safetensors")


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda m: m.update({"guide": "AutoGuideList"}), "unknown or unsafe guide"),
        (lambda m: m.update({"guide": ["AutoNormal"]}), "unknown or unsafe guide"),
        (lambda m: m["model"].update({"class": "bayesdl.__main__.Anything"}), "unknown or unsafe class"),
        (lambda m: m["options"].update({"hidden_dim": [10**7]}), "allocates more than"),
        (lambda m: m["options"].update({"num_transforms": "two"}), "cannot be rebuilt"),
        (lambda m: m.update({"wrapping": {"method": "__reduce__"}}), "no public method"),
        (lambda m: m.update({"wrapping": {"block": {"hide": "y"}}}), "block"),
        (lambda m: m.update({"inputs": 7}), "inputs"),
    ],
)
def test_tampered_guide_files_are_refused(tmp_path, mutate, match):
    path = _saved_guide(tmp_path)
    bayesdl.load(path)  # the untampered file loads
    _rewrite_header(path, mutate)
    with pytest.raises(CheckpointError, match=match):
        bayesdl.load(path)


def test_an_mcmc_posterior_round_trips_through_netcdf(tmp_path):
    from bayesdl.diagnostics.arviz_export import posterior_from_netcdf, posterior_to_netcdf
    from bayesdl.inference.mcmc import sample_posterior

    def model(n, y=None):
        mu = pyro.sample("mu", pyro.distributions.Normal(0.0, 5.0))
        sigma = pyro.sample("sigma", pyro.distributions.HalfNormal(2.0))
        with pyro.plate("data", n):
            pyro.sample("y", pyro.distributions.Normal(mu, sigma), obs=y)

    y = torch.tensor([0.3, -1.2, 2.0, 0.8, 1.1])
    post = sample_posterior(
        model, 5, y, num_chains=2, num_warmup=30, num_samples=20, seed=0, progress=False, compile=False
    )
    path = posterior_to_netcdf(post, tmp_path / "post.nc")
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_current_umask())
    back = posterior_from_netcdf(path)
    for field in ("samples", "sample_stats", "observed_data", "log_likelihood"):
        ours, theirs = getattr(post, field), getattr(back, field)
        assert ours.keys() == theirs.keys(), field
        assert all(torch.equal(ours[k].cpu(), theirs[k]) for k in ours), field
    assert torch.equal(back.unconstrained, post.unconstrained) and torch.equal(back.inv_mass, post.inv_mass)
    assert torch.equal(back.step_size, post.step_size) and back.latent_names == post.latent_names
    assert back.model is None
    pp = back.predictive(model, 5)  # a loaded posterior predicts once it is given the model
    assert pp["y"].shape == (2, 20, 5)
    with pytest.raises(CheckpointError):
        posterior_from_netcdf(bayesdl.save(Net(), tmp_path / "net.safetensors"))


def _current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_files_written_by_bayesdl_0_1_still_load_and_give_the_same_outputs():
    """The fixtures were written by bayesdl 0.1 (commit b61a008): classes named by their full module path
    (bayesdl.models.rbm.RBM, bayesdl.models.vae.vae.VAE with nested encoder and decoder)."""
    from pathlib import Path

    data = Path(__file__).parent / "data"
    assert _header_of(data / "legacy_rbm_v0.1.safetensors")["class"] == "bayesdl.models.rbm.RBM"
    expected = load_state(data / "legacy_outputs_v0.1.safetensors")
    rbm = bayesdl.load(data / "legacy_rbm_v0.1.safetensors")
    vae = bayesdl.load(data / "legacy_vae_v0.1.safetensors")
    x = expected["x"]
    assert torch.allclose(rbm.free_energy(x), expected["rbm_free_energy"], rtol=1e-6, atol=1e-6)
    q = vae.encode(x)
    assert torch.allclose(q.mean, expected["vae_loc"], rtol=1e-6, atol=1e-6)
    assert torch.allclose(q.stddev, expected["vae_scale"], rtol=1e-6, atol=1e-6)
