"""Run every peer comparison (benchmarks/bench_*.py) and write benchmarks/RESULTS.md.

Each benchmark module runs the peer library and bayesdl on the same work in one process and returns
rows with the keys task, peer, peer_figure, bayesdl_figure and ratio. Timings on a shared machine are
noisy; the ratios, measured side by side in one process, are what the table is for.

Usage:
    python benchmarks/run_all.py [--quick] [--only NAME ...] [--isa native,avx2]

With ``--only``, the rows of the benchmarks that were not rerun are carried over from the existing output
file, and the file says which rows come from which run. With ``--isa``, every benchmark runs once per
instruction-set column, each in its own process started with that column's environment (``native``: the
machine's kernels; ``avx2``: ATen, oneDNN and MKL limited to AVX2, see ``benchmarks/isa.py``), and the file
records, per column, the CPU model, its avx2/avx512*/amx* flags, ``torch.backends.cpu.get_cpu_capability()``
and the ISA oneDNN reports.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
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
    return (
        f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, torch {torch.__version__}, "
        f"{platform.system()} {platform.release()}"
    )


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
    produced = next(
        (line.split(" on ", 1)[1].rstrip(".") for line in text if line.startswith("Produced by")), None
    )
    dates: dict[str, str] = {}
    for line in text:
        if line.startswith(RUNS_PREFIX):
            for item in line[len(RUNS_PREFIX) :].rstrip(".").split("; "):
                name, _, date = item.partition(" ")
                dates[name] = date
    kept = [line for line in text if line.startswith("| bench_") and line.split(" | ")[0][2:] not in rerun]
    names = {line.split(" | ")[0][2:] for line in kept}
    return {name: dates.get(name, produced or "an unknown date") for name in sorted(names)}, kept


def run_in_process(
    scripts: list[Path], quick: bool
) -> tuple[list[dict], list[tuple[str, str]], dict[str, float]]:
    """Run each benchmark's ``main`` here; rows, failures (name, traceback) and wall seconds per script."""
    rows, failures, times = [], [], {}
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        start = time.perf_counter()
        try:
            for row in load(script).main(quick=quick):
                rows.append({"benchmark": script.stem, **{k: str(v) for k, v in row.items()}})
        except Exception:  # report and go on: one broken peer must not hide the others
            failures.append((script.stem, traceback.format_exc(limit=3)))
        times[script.stem] = time.perf_counter() - start
    return rows, failures, times


def run_per_isa(
    scripts: list[Path], quick: bool, columns: list[str]
) -> tuple[list[dict], list[tuple[str, str]], dict[str, float], list[str]]:
    """Run each benchmark once per instruction-set column, each in a child process with the column's environment."""
    import isa  # benchmarks/isa.py

    root = Path(__file__).resolve().parents[1]
    rows, failures, times, described = [], [], {}, []
    for column in columns:
        environment = {
            **isa.environment(column),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        }
        described.append(isa.describe_text(isa.describe(column, root)))
        for script in scripts:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "rows.json"
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--only",
                    script.stem,
                    "--rows-json",
                    str(out),
                    "--bench-dir",
                    str(script.parent),
                ]
                print(f"== {script.stem} [{column}]", flush=True)
                start = time.perf_counter()
                done = subprocess.run(command + (["--quick"] if quick else []), env=environment)
                times[f"{script.stem} [{column}]"] = time.perf_counter() - start
                result = json.loads(out.read_text()) if out.exists() else {"rows": [], "failures": []}
            rows += [{**row, "isa": column} for row in result["rows"]]
            failures += [(f"{name} [{column}]", tb) for name, tb in result["failures"]]
            if done.returncode and not result["failures"]:
                failures.append((f"{script.stem} [{column}]", f"exit status {done.returncode}"))
    return rows, failures, times, described


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes (for a smoke check, not for the table)"
    )
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names, e.g. bench_rbm")
    parser.add_argument(
        "--isa", default=None, help="comma-separated instruction-set columns, e.g. native,avx2"
    )
    parser.add_argument(
        "--rows-json", default=None, help="(internal) write the rows to this JSON file instead of a table"
    )
    parser.add_argument("--bench-dir", default=None, help="(internal) the folder of the bench_*.py scripts")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parent  # this folder, with table.py and isa.py
    sys.path.insert(0, str(here.parent))
    sys.path.insert(0, str(here))
    scripts = sorted(Path(args.bench_dir or HERE).glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only]
    if args.rows_json:
        rows, failures, _ = run_in_process(scripts, args.quick)
        Path(args.rows_json).write_text(json.dumps({"rows": rows, "failures": failures}))
        return 1 if failures else 0
    described: list[str] = []
    if args.isa:
        rows, failures, times, described = run_per_isa(
            scripts, args.quick, [c.strip() for c in args.isa.split(",") if c.strip()]
        )
    else:
        rows, failures, times = run_in_process(scripts, args.quick)
        rows = [{**row, "isa": "native"} for row in rows]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    flags = (" --only " + " ".join(args.only) if args.only else "") + (
        f" --isa {args.isa}" if args.isa else ""
    )
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `python benchmarks/run_all.py{' --quick' if args.quick else ''}{flags}` on {stamp}.",
        "",
        f"Machine: {machine_description()}.",
        "",
        "Each row was measured with the peer and bayesdl in the same process. Ratios are bayesdl / peer for",
        "times (lower is better for bayesdl) unless the row says otherwise. The isa column names the instruction-set",
        "column the row ran in (native, or avx2: ATen, oneDNN and MKL limited to AVX2; see benchmarks/isa.py).",
        "",
        TABLE_HEADER,
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    if described:
        lines[5:5] = [
            "Instruction-set columns, as a process started with each column's environment reports them:",
            "",
            *[f"- {d}" for d in described],
            "",
        ]
    runs = {s.stem: stamp for s in scripts}
    if args.only:
        carried, kept = previous_rows(Path(args.out), {s.stem for s in scripts})
        if kept:
            lines[3:3] = [
                "",
                f"Only {', '.join(s.stem for s in scripts)} ran on this date; the rows of {', '.join(carried)} "
                "are carried over from earlier runs (their isa cell says where they ran).",
            ]
            runs = {**carried, **runs}
            lines += [with_isa_cell(line) for line in kept]
            earlier = previous_machine(Path(args.out))
            if earlier and any(EARLIER_MACHINE in line for line in lines):
                lines.insert(
                    lines.index(f"Machine: {machine_description()}.") + 1,
                    f"\n{CARRIED_MACHINE_PREFIX} {earlier}",
                )
    lines[3:3] = ["", RUNS_PREFIX + "; ".join(f"{name} {date}" for name, date in sorted(runs.items())) + "."]
    for r in rows:
        lines.append(
            f"| {r['benchmark']} | {r.get('isa', '')} | {r.get('task', '')} | {r.get('peer', '')} | {r.get('peer_figure', '')} | "
            f"{r.get('bayesdl_figure', '')} | {r.get('ratio', '')} |"
        )
    lines += [
        "",
        "Wall time per benchmark script: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + ".",
    ]
    if failures:
        lines += ["", "## Failures", ""]
        for name, tb in failures:
            lines += [f"### {name}", "```", tb.strip(), "```"]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 1 if failures else 0


CARRIED_MACHINE_PREFIX = "Rows marked 'native (earlier machine)' ran on:"


def previous_machine(path: Path) -> str:
    """The machine an earlier RESULTS.md's carried-over rows ran on ("" if it does not say)."""
    if not path.exists():
        return ""
    for line in path.read_text().splitlines():
        if line.startswith(CARRIED_MACHINE_PREFIX):
            return line.removeprefix(CARRIED_MACHINE_PREFIX).strip()
    for line in path.read_text().splitlines():
        if line.startswith("Machine:"):
            return line.removeprefix("Machine:").strip()
    return ""


TABLE_HEADER = "| benchmark | isa | task | peer | peer figure | bayesdl figure | ratio |"
# rows carried over from a file written before the isa column existed ran on the machine its header named, natively
EARLIER_MACHINE = "native (earlier machine)"


def with_isa_cell(line: str) -> str:
    """A carried-over table row with its isa cell (rows from before the isa column get EARLIER_MACHINE)."""
    cells = line.split(" | ")
    if len(cells) == 6:  # benchmark | task | peer | peer figure | bayesdl figure | ratio
        cells.insert(1, EARLIER_MACHINE)
    return " | ".join(cells)


if __name__ == "__main__":
    sys.exit(main())
