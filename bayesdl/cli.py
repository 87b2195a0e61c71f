"""The ``bayesdl`` command: list and run experiments, and the demo tour.

Errors are printed as one line (``bayesdl: error: ...``) with exit status 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DEMO_OUT = "runs"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayesdl", description="Probabilistic and Bayesian deep learning experiments.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the runnable experiments")
    run = sub.add_parser("run", help="run one experiment (or 'all') into a fresh folder")
    run.add_argument("name", help="experiment name, as shown by 'bayesdl list', or 'all'")
    demo = sub.add_parser("demo", help="a short tour on the embedded digits data")
    for p in (run, demo):
        p.add_argument("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda:1', ...")
        p.add_argument("--out", default=DEMO_OUT, help="parent folder of the run folders (default: runs)")
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument("--progress", action="store_true", help="show training progress bars")
    run.add_argument("--quick", action="store_true", help="a reduced run that finishes in about a minute")
    run.add_argument("--smoke", action="store_true", help="a tiny run (seconds) that only checks the plumbing")
    return parser


def _cmd_list() -> int:
    from .experiments import list_experiments

    experiments = list_experiments()
    width = max(len(n) for n in experiments)
    for name, exp in experiments.items():
        tag = " [demo]" if exp.demo else ""
        print(f"{name:<{width}}  {exp.description}{tag}")
    return 0


def _run_many(names: Sequence[str], args: argparse.Namespace, quick: bool, header: str | None, smoke: bool = False) -> int:
    from .experiments import run_experiment
    from .experiments.registry import fresh_run_dir
    from .experiments.summary import format_summary, write_index

    parent = fresh_run_dir(args.out, header) if header else Path(args.out)
    rows = []
    for i, name in enumerate(names, 1):
        if header:
            print(f"[{i}/{len(names)}] {name} ...", flush=True)
        start = time.perf_counter()
        result = run_experiment(name, quick=quick, smoke=smoke, device=args.device, out=parent, seed=args.seed, progress=args.progress)
        rows.append((name, result))
        print(f"  {name}: {result.out_dir}  ({time.perf_counter() - start:.1f} s)")
        for key, value in list(result.metrics.items())[:6]:
            if isinstance(value, (int, float)):
                print(f"    {key} = {value:.4g}" if isinstance(value, float) else f"    {key} = {value}")
    if header:
        index = write_index(parent, rows)
        print(format_summary(rows))
        print(f"summary: {index}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .experiments import get_experiment, list_experiments

    if args.name == "all":
        return _run_many(list(list_experiments()), args, args.quick, "all", smoke=args.smoke)
    return _run_many([get_experiment(args.name).name], args, args.quick, None, smoke=args.smoke)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .experiments import list_experiments

    names = [name for name, exp in list_experiments().items() if exp.demo]
    print("bayesdl demo: a quick tour on the embedded 8x8 digits (" + ", ".join(names) + ")")
    return _run_many(names, args, True, "demo")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bayesdl`` command; returns the exit status.

    Arguments:
        argv: the command-line arguments after the program name (``sys.argv[1:]`` if None), e.g.
            ``["run", "svi-logistic", "--quick", "--out", "runs"]``.

    Returns:
        The exit status: 0 on success, 2 after an error (printed as one line on stderr), 130 on Ctrl-C.

    Example:
        >>> main(["run", "no-such-experiment"])  # the one-line error goes to stderr
        2
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_demo(args)
    except KeyboardInterrupt:
        print("bayesdl: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # one clear line unless --debug
        if args.debug:
            raise
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"bayesdl: error: {message} ({type(err).__name__}; use --debug for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
