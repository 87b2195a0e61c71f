"""benchmarks/run_all.py: rows of benchmarks that were not rerun are carried over with their date."""

import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _runner():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_previous_rows_keeps_only_benchmarks_that_were_not_rerun(tmp_path):
    old = tmp_path / "RESULTS.md"
    old.write_text(
        "# Benchmark results\n\nProduced by `python benchmarks/run_all.py` on 2026-01-02 03:04 UTC.\n\n"
        "| benchmark | task | peer | peer figure | bayesdl figure | ratio |\n| --- | --- | --- | --- | --- | --- |\n"
        "| bench_a | t1 | p | 1 | 2 | 2.0 |\n| bench_b | t2 | p | 1 | 1 | 1.0 |\n| bench_a | t3 | p | 2 | 2 | 1.0 |\n"
    )
    dates, kept = _runner().previous_rows(old, {"bench_a"})
    assert dates == {"bench_b": "2026-01-02 03:04 UTC"}  # no per-benchmark line: the file's date
    assert kept == ["| bench_b | t2 | p | 1 | 1 | 1.0 |"]
    assert _runner().previous_rows(tmp_path / "missing.md", {"bench_a"}) == ({}, [])


def test_each_carried_benchmark_keeps_its_own_run_date(tmp_path, monkeypatch):
    runner = _runner()
    out = tmp_path / "RESULTS.md"
    out.write_text(
        "Produced by `python benchmarks/run_all.py` on 2026-01-03 00:00 UTC.\n\n"
        + runner.RUNS_PREFIX
        + "bench_a 2026-01-01 10:00 UTC; bench_b 2026-01-02 11:00 UTC.\n\n"
        "| bench_a | t1 | p | 1 | 2 | 2.0 |\n| bench_b | t2 | p | 1 | 1 | 1.0 |\n"
    )
    dates, kept = runner.previous_rows(out, {"bench_c"})
    assert dates == {"bench_a": "2026-01-01 10:00 UTC", "bench_b": "2026-01-02 11:00 UTC"} and len(kept) == 2
    bench = tmp_path / "bench_b.py"  # a rerun of bench_b replaces its rows and its date, bench_a keeps both
    bench.write_text(
        "def main(quick=False):\n    return [{'task': 'new', 'peer': 'p', 'peer_figure': 1, 'bayesdl_figure': 1, 'ratio': 1}]\n"
    )
    monkeypatch.setattr(runner, "HERE", tmp_path)
    assert runner.main(["--only", "bench_b", "--out", str(out)]) == 0
    text = out.read_text()
    assert "bench_a 2026-01-01 10:00 UTC; bench_b 2026-" in text and "bench_b 2026-01-02" not in text
    # the carried row gets the isa cell of a file written before that column existed; the rerun says where it ran
    assert "| bench_a | native (earlier machine) | t1 |" in text and "| bench_b | native | new |" in text
    assert "| bench_b | t2 |" not in text and "| benchmark | isa | task |" in text


def test_isa_columns_run_each_benchmark_in_a_child_with_the_columns_environment(tmp_path, monkeypatch):
    runner = _runner()
    bench = tmp_path / "bench_c.py"  # reports the kernel set ATen dispatches to in the child process
    bench.write_text(
        "import os, torch\n"
        "def main(quick=False):\n"
        "    return [{'task': 'cap', 'peer': os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset'),\n"
        "             'peer_figure': torch.backends.cpu.get_cpu_capability(), 'bayesdl_figure': 1, 'ratio': 1}]\n"
    )
    monkeypatch.setattr(runner, "HERE", tmp_path)
    out = tmp_path / "RESULTS.md"
    assert runner.main(["--isa", "native,avx2", "--out", str(out)]) == 0
    text = out.read_text()
    import subprocess
    import sys

    emulation = (
        "ATEN_CPU_CAPABILITY",
        "ONEDNN_MAX_CPU_ISA",
        "MKL_ENABLE_INSTRUCTIONS",
    )  # this run may itself be emulated
    probe_env = {k: v for k, v in os.environ.items() if k not in emulation}
    native_cap = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
        env=probe_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert f"| bench_c | native | cap | unset | {native_cap} |" in text
    assert (
        "| bench_c | avx2 | cap | AVX2 | AVX2 |" in text
    )  # ATEN_CPU_CAPABILITY=avx2 took effect in the child
    assert (
        "- **avx2** (ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2): CPU"
        in text
    )
    assert "`torch.backends.cpu.get_cpu_capability()` = AVX2" in text


def test_cpu_flags_and_onednn_isa_are_read_from_their_reports():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import isa

    model, flags = isa.cpu_model_and_flags(
        "model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile fma\n"
    )
    assert model == "Intel(R) Xeon(R) Platinum 8480+" and flags == [
        "amx_bf16",
        "amx_tile",
        "avx2",
        "avx512_bf16",
        "avx512f",
    ]
    verbose = (
        "onednn_verbose,v1,info,cpu,isa:Intel AVX-512 with float16, Intel DL Boost and bfloat16 support and Intel AMX\n"
        "onednn_verbose,v1,primitive,exec,cpu,convolution,brg:avx512_core_amx,forward_training,src:f32\n"
    )
    assert isa.onednn_isa_line(verbose).startswith(
        "Intel AVX-512 with float16"
    ) and "brg:avx512_core_amx" in isa.onednn_isa_line(verbose)
    assert isa.onednn_isa_line("") == "not reported"
