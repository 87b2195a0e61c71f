"""bayesdl.ops.hardware: "auto" precision picks bfloat16 exactly where torch reports native bfloat16 arithmetic."""

from __future__ import annotations

import contextlib
import warnings

import pytest
import torch

from bayesdl.models.rbm import RBM
from bayesdl.nn.bayesian_layers import BayesianLinear
from bayesdl.ops import hardware


@pytest.fixture
def fake_cpu(monkeypatch):
    """Replace the probes torch offers by fakes: fake_cpu(flags, capability) sets what they report."""

    def configure(flags: dict, capability: str = "AVX512", onednn_isa: str | None = None) -> None:
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"architecture": "x86_64", **flags})
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
        if onednn_isa is None:
            monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
        else:
            monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", onednn_isa)
        hardware.clear_cache()

    yield configure
    monkeypatch.undo()
    hardware.clear_cache()


@pytest.mark.parametrize(
    "flags,capability,isa,native",
    [
        ({"amx_tile": True, "amx_bf16": True, "avx512_bf16": True}, "AVX512", None, True),  # Sapphire Rapids
        ({"avx512_bf16": True}, "AVX512", None, True),  # Cooper Lake, Zen 4
        ({"avx512_f": True, "avx512_bf16": False}, "AVX512", None, False),  # Skylake-SP: AVX-512 but no BF16
        ({"avx2": True}, "AVX2", None, False),  # AVX2-only (e.g. Zen 2/3 EPYC)
        ({"amx_tile": True, "amx_bf16": True}, "AVX2", None, False),  # ATEN_CPU_CAPABILITY=avx2 emulation
        ({"amx_tile": True, "amx_bf16": True}, "AVX512", "AVX2", False),  # ONEDNN_MAX_CPU_ISA=AVX2
        ({"amx_tile": True, "amx_bf16": True}, "AVX512", "avx512_core_amx", True),
        ({"avx512_bf16": True}, "AVX512", "AVX512_CORE", False),
    ],
)
def test_native_bfloat16_follows_the_reported_features_and_limits(fake_cpu, flags, capability, isa, native):
    fake_cpu(flags, capability, isa)
    assert hardware.runs_bfloat16_natively("cpu") is native
    assert hardware.resolve_bfloat16("auto", "cpu") is native
    assert hardware.resolve_bfloat16("float32", "cpu") is False


def test_explicit_bfloat16_without_native_support_runs_and_warns_once(fake_cpu):
    fake_cpu({"avx2": True}, "AVX2")
    with pytest.warns(RuntimeWarning, match="emulated"):
        assert hardware.resolve_bfloat16("bfloat16", "cpu", "RBM(compute_dtype='bfloat16')") is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hardware.resolve_bfloat16("bfloat16", "cpu") is True  # no second warning
    fake_cpu({"amx_tile": True, "amx_bf16": True}, "AVX512")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hardware.resolve_bfloat16("bfloat16", "cpu") is True  # native: no warning at all


def test_cuda_follows_is_bf16_supported(monkeypatch):
    hardware.clear_cache()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device", lambda d: contextlib.nullcontext())
    for supported in (True, False):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda s=supported: s)
        hardware.clear_cache()
        assert hardware.resolve_bfloat16("auto", "cuda:0") is supported
    hardware.clear_cache()
    assert hardware.resolve_bfloat16("auto", "meta") is False


def test_this_machines_answer_matches_its_reported_flags():
    hardware.clear_cache()
    flags = hardware.cpu_capabilities()
    has_bf16 = bool(flags.get("amx_bf16") or flags.get("amx_tile") or flags.get("avx512_bf16"))
    if not has_bf16:  # e.g. the AVX2-only CI machine: "auto" must mean float32
        assert hardware.runs_bfloat16_natively("cpu") is False


def test_auto_defaults_pick_bfloat16_products_only_on_native_hardware(fake_cpu):
    for flags, capability, native in (
        ({"amx_tile": True, "amx_bf16": True}, "AVX512", True),
        ({"avx2": True}, "AVX2", False),
    ):
        fake_cpu(flags, capability)
        rbm = RBM(6, 4, method="pcd", num_chains=3)
        assert rbm.compute_dtype == "auto"
        assert rbm._compute_weight().dtype == (torch.bfloat16 if native else torch.float32)
        assert rbm.chain_hidden.dtype == (torch.bfloat16 if native else torch.float32)
        layer = BayesianLinear(200, 130)
        assert layer.matmul_precision == "auto"
        _, low_var, low_mean = layer.fused_settings()
        assert (low_var, low_mean) == (native, native)
        assert BayesianLinear(200, 100).fused_settings()[1:] == (
            False,
            False,
        )  # too narrow for bfloat16 anyway
