"""benchmarks/gpu_check.py on the CPU: its checks run (the CPU standing in for the GPU) and it exits cleanly without CUDA."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_without_cuda_it_says_so_and_exits_with_status_zero(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _gpu_check().main(["--out", str(tmp_path / "gpu.md")]) == 0
    assert "no CUDA device is available" in capsys.readouterr().out
    assert not (tmp_path / "gpu.md").exists()


def test_every_family_and_nuts_pass_their_checks_with_the_cpu_as_the_device(tmp_path):
    out = tmp_path / "gpu.md"
    assert _gpu_check().main(["--device", "cpu", "--steps", "1", "--nuts", "2:5:5", "--out", str(out)]) == 0
    text = out.read_text()
    names = [f.name for f in _gpu_check().families()]
    assert len(names) >= 12 and all(f"train {name}, 1 Adam steps" in text for name in names)
    assert "NUTS logistic (31 parameters), 2 chains, 5+5" in text and "FAILED" not in text


def test_the_device_checks_can_fail():
    gpu_check = _gpu_check()
    module = torch.nn.Linear(2, 2)
    module.register_buffer("stray", torch.zeros(1, device="meta"))
    assert gpu_check._off_device(module, torch.device("cpu")) == ["stray"]
    family = gpu_check.Family(
        "stray-output",
        lambda: _StrayOutput(),
        lambda g: (torch.randn(4, 2, generator=g),),
        lambda model, batch: model(batch[0]).to("meta"),
    )
    row = gpu_check.check_family(family, torch.device("cpu"), steps=1, repeats=2)
    assert not row["ok"] and "output off the device" in row["problems"]


class _StrayOutput(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def forward(self, x):
        return self.layer(x)

    def loss(self, x):
        return self.layer(x).square().mean()


@pytest.mark.parametrize("bad", ["4", "4:5"])
def test_a_malformed_nuts_setting_is_an_error(bad, tmp_path):
    with pytest.raises(SystemExit):
        _gpu_check().main(
            [
                "--device",
                "cpu",
                "--only",
                "made",
                "--steps",
                "1",
                "--nuts",
                bad,
                "--out",
                str(tmp_path / "g.md"),
            ]
        )
