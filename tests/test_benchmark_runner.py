"""benchmarks/run_all.py: rows of benchmarks that were not rerun are carried over with their date."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _runner():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_previous_rows_keeps_only_benchmarks_that_were_not_rerun(tmp_path):
    old = tmp_path / "RESULTS.md"
    old.write_text("# Benchmark results\n\nProduced by `python benchmarks/run_all.py` on 2026-01-02 03:04 UTC.\n\n"
                   "| benchmark | task | peer | peer figure | bayesdl figure | ratio |\n| --- | --- | --- | --- | --- | --- |\n"
                   "| bench_a | t1 | p | 1 | 2 | 2.0 |\n| bench_b | t2 | p | 1 | 1 | 1.0 |\n| bench_a | t3 | p | 2 | 2 | 1.0 |\n")
    stamp, kept = _runner().previous_rows(old, {"bench_a"})
    assert stamp == "2026-01-02 03:04 UTC"
    assert kept == ["| bench_b | t2 | p | 1 | 1 | 1.0 |"]
    assert _runner().previous_rows(tmp_path / "missing.md", {"bench_a"}) == (None, [])
