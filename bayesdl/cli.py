"""The ``bayesdl`` command: list and run experiments, and the demo tour.

Errors are printed as one line (``bayesdl: error: ...``) with exit status 2; ``--debug`` (before or after
the subcommand) shows the traceback instead. ``bayesdl --help``, ``--version`` and ``list`` import neither
torch nor Pyro nor ArviZ: they read :mod:`bayesdl.experiments.catalog` (the experiments' decorators, parsed), and the heavy modules are imported
only when a run starts.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEMO_OUT = "runs"


def _version() -> str:
    from .experiments.provenance import bayesdl_version

    return bayesdl_version()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayesdl", description="Probabilistic and Bayesian deep learning experiments."
    )
    parser.add_argument("--version", action="version", version=f"bayesdl {_version()}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list the runnable experiments")
    run = sub.add_parser("run", help="run one experiment (or 'all') into a fresh folder")
    run.add_argument("name", help="experiment name, as shown by 'bayesdl list', or 'all'")
    demo = sub.add_parser("demo", help="a short tour on the embedded digits data")
    for p in (listing, run, demo):
        # SUPPRESS: given after the subcommand it sets args.debug, and otherwise leaves the top-level value alone
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors"
        )
    for p in (run, demo):
        p.add_argument("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda:1', ...")
        p.add_argument("--out", default=DEMO_OUT, help="parent folder of the run folders (default: runs)")
        p.add_argument(
            "--seed", type=int, default=0, help="random seed, an integer in [0, 2**32) (default 0)"
        )
        p.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="show progress bars (default: on when stdout is a terminal)",
        )
    run.add_argument("--quick", action="store_true", help="a reduced run that finishes in about a minute")
    run.add_argument(
        "--smoke", action="store_true", help="a tiny run (seconds) that only checks the plumbing"
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a setting of the experiment, e.g. --set epochs=5 --set model.hidden=256 "
        "(repeatable; an unknown key is refused with the list of valid keys)",
    )
    return parser


def _cmd_list() -> int:
    from .experiments.catalog import read_catalog

    catalog = read_catalog()
    width = max(len(n) for n in catalog)
    for name, (description, demo) in catalog.items():
        tag = " [demo]" if demo else ""
        print(f"{name:<{width}}  {description}{tag}")
    return 0


def _use_file_backend() -> None:
    """The CLI only writes PNG files: use Agg unless the user chose a backend (MPLBACKEND)."""
    if "MPLBACKEND" not in os.environ:
        import matplotlib

        matplotlib.use("Agg")


def _run_many(
    names: Sequence[str],
    args: argparse.Namespace,
    quick: bool,
    header: str | None,
    smoke: bool = False,
    overrides: dict[str, str] | None = None,
) -> int:
    from .experiments.headline import headline_lines
    from .experiments.registry import (
        check_device,
        check_seed,
        experiment_config,
        fresh_run_dir,
        get_experiment,
        run_experiment,
    )
    from .experiments.settings import run_size
    from .experiments.summary import format_summary, write_index

    _use_file_backend()
    # check everything that can fail at once before any folder is made
    check_seed(args.seed)
    check_device(args.device)
    for name in names:
        experiment_config(get_experiment(name), run_size(quick, smoke), overrides)
    progress = sys.stdout.isatty() if args.progress is None else args.progress
    command = shlex.join(["bayesdl", *args.argv])
    parent = fresh_run_dir(args.out, header) if header else Path(args.out)
    rows = []
    for i, name in enumerate(names, 1):
        if header:
            print(f"[{i}/{len(names)}] {name} ...", flush=True)
        start = time.perf_counter()
        result = run_experiment(
            name,
            quick=quick,
            smoke=smoke,
            device=args.device,
            out=parent,
            seed=args.seed,
            progress=progress,
            overrides=overrides,
            command=command,
        )
        rows.append((name, result))
        print(f"  {name}: {result.out_dir}  ({time.perf_counter() - start:.1f} s)")
        for line in headline_lines(result.reported):
            print(f"    {line}")
    if header:
        index = write_index(parent, rows, command=command)
        print(format_summary(rows))
        print(f"summary: {index}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .experiments.catalog import read_catalog
    from .experiments.settings import parse_assignments

    overrides = parse_assignments(args.overrides)
    catalog = read_catalog()
    if args.name == "all":
        if overrides:
            raise InputError("--set applies to one experiment; give its name instead of 'all'")
        return _run_many(list(catalog), args, args.quick, "all", smoke=args.smoke)
    if args.name not in catalog:
        raise InputError(f"unknown experiment {args.name!r}; run 'bayesdl list' to see: {', '.join(catalog)}")
    return _run_many([args.name], args, args.quick, None, smoke=args.smoke, overrides=overrides)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .experiments.catalog import read_catalog

    names = [name for name, (_, demo) in read_catalog().items() if demo]
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
    argv = list(sys.argv[1:] if argv is None else argv)
    args: Any = _parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_demo(args)
    except KeyboardInterrupt:
        print("bayesdl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `bayesdl list | head`: the reader has gone, nothing is wrong
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python from complaining again at exit
        return 0
    except Exception as err:  # one clear line unless --debug
        if args.debug:
            raise
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(
            f"bayesdl: error: {message} ({type(err).__name__}; use --debug for the traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
