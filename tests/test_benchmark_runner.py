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
    dates, kept = _runner().previous_rows(old, {"bench_a"})
    assert dates == {"bench_b": "2026-01-02 03:04 UTC"}  # no per-benchmark line: the file's date
    assert kept == ["| bench_b | t2 | p | 1 | 1 | 1.0 |"]
    assert _runner().previous_rows(tmp_path / "missing.md", {"bench_a"}) == ({}, [])


def test_each_carried_benchmark_keeps_its_own_run_date(tmp_path, monkeypatch):
    runner = _runner()
    out = tmp_path / "RESULTS.md"
    out.write_text("Produced by `python benchmarks/run_all.py` on 2026-01-03 00:00 UTC.\n\n"
                   + runner.RUNS_PREFIX + "bench_a 2026-01-01 10:00 UTC; bench_b 2026-01-02 11:00 UTC.\n\n"
                   "| bench_a | t1 | p | 1 | 2 | 2.0 |\n| bench_b | t2 | p | 1 | 1 | 1.0 |\n")
    dates, kept = runner.previous_rows(out, {"bench_c"})
    assert dates == {"bench_a": "2026-01-01 10:00 UTC", "bench_b": "2026-01-02 11:00 UTC"} and len(kept) == 2
    bench = tmp_path / "bench_b.py"  # a rerun of bench_b replaces its rows and its date, bench_a keeps both
    bench.write_text("def main(quick=False):\n    return [{'task': 'new', 'peer': 'p', 'peer_figure': 1, 'bayesdl_figure': 1, 'ratio': 1}]\n")
    monkeypatch.setattr(runner, "HERE", tmp_path)
    assert runner.main(["--only", "bench_b", "--out", str(out)]) == 0
    text = out.read_text()
    assert "bench_a 2026-01-01 10:00 UTC; bench_b 2026-" in text and "bench_b 2026-01-02" not in text
    assert "| bench_a | t1 |" in text and "| bench_b | new |" in text and "| bench_b | t2 |" not in text

