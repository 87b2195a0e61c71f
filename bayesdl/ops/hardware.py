"""Whether a device runs bfloat16 matrix products natively, and the precision an ``"auto"`` option resolves to.

bfloat16 products are fast only where the hardware has bfloat16 arithmetic: on x86 CPUs the AMX tiles
(Sapphire Rapids and later) or the AVX512-BF16 dot products (Cooper Lake, Zen 4 and later), and CUDA devices that
report bfloat16 support. Elsewhere (e.g. an AVX2-only CPU, or an AVX-512 CPU without BF16) oneDNN emulates them
with float32 arithmetic plus conversions, which is slower than plain float32; see ``benchmarks/RESULTS.md``.

The decision uses what torch reports, never the CPU's name:

* ``torch.cpu.get_capabilities()`` (cpuinfo's ``amx_bf16``/``amx_tile`` and ``avx512_bf16`` flags);
* ``torch.backends.cpu.get_cpu_capability()``, the kernel set ATen dispatches to: it honours
  ``ATEN_CPU_CAPABILITY``, so a process restricted to ``avx2`` resolves ``"auto"`` to float32;
* the ``ONEDNN_MAX_CPU_ISA`` limit, when set, for oneDNN (which runs torch's bfloat16 products on CPU);
* ``torch.cuda.is_bf16_supported()`` for CUDA devices.

Example:
    >>> resolve_bfloat16("float32", "cpu")
    False
    >>> resolve_bfloat16("auto", "meta")   # only CPUs with AMX/AVX512-BF16 and bf16-capable CUDA devices qualify
    False
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any, Literal

import torch

BFloat16Option = Literal["auto", "float32", "bfloat16"]
BFLOAT16_OPTIONS = ("auto", "float32", "bfloat16")

# oneDNN ISA limits (ONEDNN_MAX_CPU_ISA) that still include bfloat16 arithmetic; any other value excludes it
_ONEDNN_BF16_ISAS = (
    "ALL",
    "DEFAULT",
    "AVX512_CORE_BF16",
    "AVX512_CORE_FP16",
    "AVX512_CORE_AMX",
    "AVX512_CORE_AMX_FP16",
    "AVX10_1_512",
    "AVX10_1_512_AMX",
    "AVX10_1_512_AMX_FP16",
    "AVX10_2_512",
    "AVX10_2_512_AMX_2",
)

_warned: set[str] = set()


def cpu_capabilities() -> dict[str, Any]:
    """The CPU feature flags torch's cpuinfo reports (``torch.cpu.get_capabilities()``; {} where unavailable)."""
    get = getattr(torch.cpu, "get_capabilities", None)
    if get is not None:
        return dict(get())
    flags = {}
    for name, probe in (("amx_tile", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported")):
        if hasattr(torch.cpu, probe):
            flags[name] = bool(getattr(torch.cpu, probe)())
    return flags


def cpu_kernel_capability() -> str:
    """The instruction set of the ATen CPU kernels in use: "AVX2", "AVX512", "DEFAULT", ... (honours ATEN_CPU_CAPABILITY)."""
    return str(torch.backends.cpu.get_cpu_capability())


def cpu_runs_bfloat16_natively() -> bool:
    """True when this process's CPU kernels have bfloat16 arithmetic (AMX or AVX512-BF16, and no ISA limit below it)."""
    flags = cpu_capabilities()
    hardware = bool(
        flags.get("amx_bf16") or flags.get("amx_tile") or flags.get("avx512_bf16") or flags.get("bf16")
    )
    if not hardware:
        return False
    architecture = str(flags.get("architecture", "x86_64")).lower()
    if "arm" in architecture or "aarch64" in architecture:
        return True
    if not cpu_kernel_capability().upper().startswith("AVX512"):
        return (
            False  # ATen was restricted below AVX-512 (ATEN_CPU_CAPABILITY), so oneDNN is expected to be too
        )
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return not limit or limit in _ONEDNN_BF16_ISAS


def runs_bfloat16_natively(device: Any) -> bool:
    """True when ``device`` (a ``torch.device`` or string) runs bfloat16 matrix products natively (cached per device)."""
    device = torch.device(device)
    return _runs_bfloat16_natively(device.type, device.index)


@functools.cache
def _runs_bfloat16_natively(kind: str, index: int | None) -> bool:
    if kind == "cpu":
        return cpu_runs_bfloat16_natively()
    if kind == "cuda":
        if not torch.cuda.is_available():
            return False
        with torch.cuda.device(torch.device(kind, index)):
            return bool(torch.cuda.is_bf16_supported())
    return False


def clear_cache() -> None:
    """Forget the cached answers of :func:`runs_bfloat16_natively` and the warnings given (e.g. after changing the
    environment in a test)."""
    _runs_bfloat16_natively.cache_clear()
    _warned.clear()


def resolve_bfloat16(option: str, device: Any, where: str = "") -> bool:
    """Whether a precision option means bfloat16 on ``device``: "auto" where it is native, "bfloat16" always.

    An explicit "bfloat16" on a device without native bfloat16 still runs (the products are emulated), with one
    warning per process and device type that it will be slower than float32.

    Arguments:
        option: "auto", "float32" or "bfloat16".
        device: the device the products run on.
        where: the option's owner, named in the warning (e.g. "RBM(compute_dtype='bfloat16')").
    """
    if option == "float32":
        return False
    native = runs_bfloat16_natively(device)
    if option == "auto":
        return native
    if not native:
        warn_emulated_bfloat16(device, where)
    return True


def warn_emulated_bfloat16(device: Any, where: str = "") -> None:
    """Warn, once per process and device type, that bfloat16 products on ``device`` are emulated (slow)."""
    kind = torch.device(device).type
    if kind in _warned or kind == "meta":
        return
    _warned.add(kind)
    detail = (
        f"CPU kernels {cpu_kernel_capability()}, no AMX or AVX512-BF16"
        if kind == "cpu"
        else "no native bfloat16"
    )
    warnings.warn(
        f"{where or 'bfloat16'}: this {kind} device has {detail}, so bfloat16 matrix products are emulated and "
        "usually slower than float32; use the default 'auto' (float32 here) unless you are measuring",
        RuntimeWarning,
        stacklevel=3,
    )
