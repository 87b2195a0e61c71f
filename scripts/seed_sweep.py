#!/usr/bin/env python3
"""Rerun the stochastic tests under many seeds and report every test that fails for any of them.

A test is stochastic when it asserts on a sampled or trained quantity; such tests take the ``seed``
fixture of ``tests/conftest.py``, which marks them ``stochastic`` and, when the environment variable
``BAYESDL_TEST_SEED`` is set, moves every seed they use to a fresh value derived from it. This script
runs ``pytest -m stochastic`` once per sweep seed (one seed after another, each run with two xdist
workers under the shared heavy-work lock), collects the failures per test from pytest's JUnit XML and
prints a table (test, failures / N, failing seeds). A test whose tolerance follows from its estimator's
standard error at a false-failure rate r fails by chance in about N r of N seeds, so with r <= 1e-4 any
failure in a sweep of 10-50 seeds points at a seed-fragile test or a real bug.

Usage:
    python scripts/seed_sweep.py 20                 # sweep seeds 1..20
    python scripts/seed_sweep.py 10 --first 100     # seeds 100..109
    python scripts/seed_sweep.py 5 -- -k mcmc       # extra pytest arguments after --
Exit status: 0 when no test failed under any seed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_ENV = "BAYESDL_TEST_SEED"


def parse_junit(path: Path) -> tuple[list[str], list[str]]:
    """The test ids that ran and those that failed (failure or error) in one JUnit XML report."""
    ran, failed = [], []
    if not path.exists():
        return ran, failed
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        ran.append(name)
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
    return ran, failed


def run_seed(seed: int, workers: int, lock: str | None, extra: list[str], report: Path) -> tuple[int, float]:
    """Run the stochastic tests once with BAYESDL_TEST_SEED=seed; return pytest's exit code and seconds."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-m",
        "stochastic",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit1",
    ]
    if workers > 1:
        cmd += ["-n", str(workers), "--dist", "loadgroup"]
    cmd += extra
    if lock and shutil.which("flock"):
        cmd = ["flock", lock] + cmd
    env = dict(os.environ, **{SEED_ENV: str(seed)})
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode not in (0, 1):  # 1 = some tests failed; anything else is a collection/usage error
        print(done.stdout[-3000:], file=sys.stderr)
    return done.returncode, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("num_seeds", type=int, help="how many sweep seeds to run (e.g. 20)")
    parser.add_argument("--first", type=int, default=1, help="the first sweep seed (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers per run (default 2)")
    parser.add_argument(
        "--lock", default="/tmp/bayesdl-heavy.lock", help="flock file to hold per run ('' for none)"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if args.num_seeds < 1:
        parser.error("num_seeds must be at least 1")
    seeds = list(range(args.first, args.first + args.num_seeds))
    failures: dict[str, list[int]] = defaultdict(list)
    runs: dict[str, int] = defaultdict(int)
    broken: list[int] = []
    with tempfile.TemporaryDirectory(prefix="seed-sweep-") as tmp:
        for seed in seeds:
            report = Path(tmp) / f"seed-{seed}.xml"
            code, seconds = run_seed(seed, args.workers, args.lock or None, args.pytest_args, report)
            ran, failed = parse_junit(report)
            for name in ran:
                runs[name] += 1
            for name in failed:
                failures[name].append(seed)
            if code not in (0, 1) or not ran:
                broken.append(seed)
            print(f"seed {seed}: {len(ran)} tests, {len(failed)} failed, {seconds:.0f} s", flush=True)
    n = len(seeds)
    print(f"\nstochastic tests: {len(runs)}; sweep seeds {seeds[0]}..{seeds[-1]} (N = {n})")
    width = max([len(name) for name in runs] + [4])
    print(f"{'test'.ljust(width)}  failures/N  failing seeds")
    for name in sorted(runs, key=lambda k: (-len(failures.get(k, [])), k)):
        fails = failures.get(name, [])
        if fails or len(runs) <= 200:
            print(f"{name.ljust(width)}  {len(fails):>3}/{runs[name]:<6}  {' '.join(map(str, fails))}")
    if broken:
        print(f"runs that did not complete (collection or usage error): seeds {broken}")
    total = sum(len(v) for v in failures.values())
    print(f"total: {total} failures in {n} seeds")
    return 1 if total or broken else 0


if __name__ == "__main__":
    sys.exit(main())
