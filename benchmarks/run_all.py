"""Run every peer comparison (benchmarks/bench_*.py) and write benchmarks/RESULTS.md.

Each benchmark module runs the peer library and bayesdl on the same work in one process and returns
rows with the keys task, peer, peer_figure, bayesdl_figure and ratio. Timings on a shared machine are
noisy; the ratios, measured side by side in one process, are what the table is for.

Usage:
    python benchmarks/run_all.py [--quick] [--only NAME ...]

With ``--only``, the rows of the benchmarks that were not rerun are carried over from the existing output
file, and the file says which rows come from which run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine_description() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, torch {torch.__version__}, "
            f"{platform.system()} {platform.release()}")


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


RUNS_PREFIX = "When each benchmark ran: "


def previous_rows(path: Path, rerun: set[str]) -> tuple[dict[str, str], list[str]]:
    """The run date of each benchmark and the table rows of an earlier RESULTS.md, without those in ``rerun``.

    A benchmark's date comes from the file's "When each benchmark ran" line, or else from its "Produced by" date.
    """
    if not path.exists():
        return {}, []
    text = path.read_text().splitlines()
    produced = next((line.split(" on ", 1)[1].rstrip(".") for line in text if line.startswith("Produced by")), None)
    dates: dict[str, str] = {}
    for line in text:
        if line.startswith(RUNS_PREFIX):
            for item in line[len(RUNS_PREFIX):].rstrip(".").split("; "):
                name, _, date = item.partition(" ")
                dates[name] = date
    kept = [line for line in text if line.startswith("| bench_") and line.split(" | ")[0][2:] not in rerun]
    names = {line.split(" | ")[0][2:] for line in kept}
    return {name: dates.get(name, produced or "an unknown date") for name in sorted(names)}, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reduced sizes (for a smoke check, not for the table)")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names, e.g. bench_rbm")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))  # for benchmarks/table.py
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only]
    rows, failures, times = [], [], {}
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        start = time.perf_counter()
        try:
            for row in load(script).main(quick=args.quick):
                rows.append({"benchmark": script.stem, **{k: str(v) for k, v in row.items()}})
        except Exception:  # report and go on: one broken peer must not hide the others
            failures.append((script.stem, traceback.format_exc(limit=3)))
        times[script.stem] = time.perf_counter() - start
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `python benchmarks/run_all.py{' --quick' if args.quick else ''}` on {stamp}.",
        "",
        f"Machine: {machine_description()}.",
        "",
        "Each row was measured with the peer and bayesdl in the same process. Ratios are bayesdl / peer for",
        "times (lower is better for bayesdl) unless the row says otherwise.",
        "",
        "| benchmark | task | peer | peer figure | bayesdl figure | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    runs = {s.stem: stamp for s in scripts}
    if args.only:
        carried, kept = previous_rows(Path(args.out), {s.stem for s in scripts})
        if kept:
            lines[3:3] = ["", f"Only {', '.join(s.stem for s in scripts)} ran on this date; the rows of {', '.join(carried)} "
                              "are carried over from earlier runs."]
            runs = {**carried, **runs}
            lines += kept
    lines[3:3] = ["", RUNS_PREFIX + "; ".join(f"{name} {date}" for name, date in sorted(runs.items())) + "."]
    for r in rows:
        lines.append(f"| {r['benchmark']} | {r.get('task', '')} | {r.get('peer', '')} | {r.get('peer_figure', '')} | "
                     f"{r.get('bayesdl_figure', '')} | {r.get('ratio', '')} |")
    lines += ["", "Wall time per benchmark script: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + "."]
    if failures:
        lines += ["", "## Failures", ""]
        for name, tb in failures:
            lines += [f"### {name}", "```", tb.strip(), "```"]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
