"""Instruction-set columns of the benchmarks: the environment that emulates an AVX2-only CPU, and what a process reports.

``native`` runs with the machine's own kernels. ``avx2`` restricts every library torch uses for CPU math to AVX2:

* ``ATEN_CPU_CAPABILITY=avx2``: ATen's vectorised kernels (``torch.backends.cpu.get_cpu_capability()`` says AVX2);
* ``ONEDNN_MAX_CPU_ISA=AVX2``: oneDNN (torch's bfloat16 and convolution kernels), checked from the ISA line that
  ``ONEDNN_VERBOSE=1`` prints (``isa:Intel AVX2`` instead of ``... with Intel AMX`` or ``AVX-512``);
* ``MKL_ENABLE_INSTRUCTIONS=AVX2``: MKL's float32/float64 BLAS (``torch.mm`` of float32 on CPU).

:func:`describe` gives, for one column, the CPU model, its relevant flags (avx2, avx512*, amx*), the ATen capability
and the oneDNN ISA line, each measured in a child process started with that column's environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ISA_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}

_PROBE = r"""
import json, torch
import torch.utils.mkldnn
# one oneDNN primitive (a convolution in oneDNN's layout): with ONEDNN_VERBOSE=1 oneDNN prints its ISA line and
# the implementation it ran (e.g. jit:avx2, jit:avx512_core, brg:avx512_core_amx)
conv = torch.utils.mkldnn.to_mkldnn(torch.nn.Conv2d(3, 16, 3))
conv(torch.randn(8, 3, 32, 32).to_mkldnn())
from bayesdl.ops.hardware import runs_bfloat16_natively
print("PROBE" + json.dumps({"aten": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
                            "native_bf16": runs_bfloat16_natively("cpu")}), flush=True)
"""


def environment(isa: str) -> dict[str, str]:
    """os.environ with the column's variables set; ``native`` removes the emulation variables, so that the native
    column reports the CPU's own instruction set even when the parent process runs under the emulation."""
    if isa not in ISA_ENVIRONMENTS:
        raise ValueError(
            f"unknown instruction-set column {isa!r}; expected one of {sorted(ISA_ENVIRONMENTS)}"
        )
    emulation = {k for column in ISA_ENVIRONMENTS.values() for k in column}
    base = {k: v for k, v in os.environ.items() if k not in emulation}
    return {**base, **ISA_ENVIRONMENTS[isa]}


def cpu_model_and_flags(cpuinfo: str | None = None) -> tuple[str, list[str]]:
    """The CPU model name and its avx2/avx512*/amx* flags, from /proc/cpuinfo (or the given text)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    model, flags = "unknown CPU", []
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = sorted(f for f in value.split() if f == "avx2" or f.startswith(("avx512", "amx")))
    return model, flags


def onednn_isa_line(verbose_output: str) -> str:
    """The ISA oneDNN reports in its ``ONEDNN_VERBOSE`` header and the convolution kernel it ran, e.g.
    "Intel AVX2 (convolution jit:avx2)", or "not reported"."""
    match = re.search(r"isa:([^,\n]+)", verbose_output)
    kernel = re.search(r"exec,cpu,convolution,([^,]+),", verbose_output)
    if not match:
        return "not reported"
    return match.group(1).strip() + (f" (convolution {kernel.group(1)})" if kernel else "")


def describe(isa: str, root: Path | None = None) -> dict[str, object]:
    """What a process started with the column's environment reports: CPU model and flags, ATen capability, oneDNN ISA."""
    root = root or Path(__file__).resolve().parents[1]
    env = {**environment(isa), "ONEDNN_VERBOSE": "1", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    probe_line = next((line for line in result.stdout.splitlines() if line.startswith("PROBE")), None)
    probe = (
        json.loads(probe_line[len("PROBE") :])
        if probe_line
        else {"aten": "probe failed", "torch": "", "native_bf16": None}
    )
    model, flags = cpu_model_and_flags()
    return {
        "isa": isa,
        "environment": ISA_ENVIRONMENTS[isa],
        "cpu": model,
        "flags": flags,
        "aten_capability": probe["aten"],
        "onednn_isa": onednn_isa_line(result.stdout + result.stderr),
        "bfloat16_native": probe["native_bf16"],
        "torch": probe["torch"],
    }


def describe_text(info: dict[str, object]) -> str:
    """One line for RESULTS.md."""
    env = " ".join(f"{k}={v}" for k, v in dict(info["environment"]).items()) or "(no variables)"  # type: ignore[arg-type]
    flags = ", ".join(info["flags"]) or "none of avx2/avx512*/amx*"  # type: ignore[arg-type]
    return (
        f"**{info['isa']}** ({env}): CPU {info['cpu']}; flags {flags}; "
        f"`torch.backends.cpu.get_cpu_capability()` = {info['aten_capability']}; oneDNN ISA (ONEDNN_VERBOSE) = "
        f"{info['onednn_isa']}; bayesdl's native-bfloat16 check = {info['bfloat16_native']}"
    )
