"""The registry of runnable experiments and the machinery that runs one into a fresh folder.

An experiment is a function ``run(ctx: RunContext) -> dict`` registered with :func:`experiment`. It
trains and evaluates, saves its figures through ``ctx.save_figure`` and returns its metrics; the
runner writes ``metrics.json``, ``run.json`` and a self-contained ``report.html`` beside the PNGs.
Experiments live one per module in ``bayesdl/experiments/``; every module there is imported when the
registry is first listed, so adding an experiment needs no edit anywhere else.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..errors import InputError
from ..io import atomic_write_json
from .report import write_report

_EXPERIMENTS: dict[str, Experiment] = {}
_DISCOVERED = False


@dataclass
class RunContext:
    """What an experiment gets: where to write, how big to run, on which device, with which seed.

    Sizes: ``smoke`` (seconds: for the test suite; every file is written, numbers are not
    meaningful), ``quick`` (about a minute on a laptop CPU: for the CLI and the demo), and neither
    (the full settings that examples/ use). ``smoke`` implies ``quick``.
    """

    out_dir: Path
    quick: bool = False
    smoke: bool = False
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    progress: bool = False
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def save_figure(self, fig: Any, name: str, caption: str = "") -> Path:
        """Save a matplotlib figure as ``<name>.png`` in the run folder, close it, and list it in the report."""
        import matplotlib.pyplot as plt

        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append((path.name, caption))
        return path

    def note(self, text: str) -> None:
        """Add a sentence to the report (for example, which number is a bound)."""
        self.notes.append(text)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its name, a one-line description, its function, and whether ``bayesdl demo`` tours it."""

    name: str
    description: str
    run: Callable[[RunContext], dict[str, Any]]
    demo: bool = False


@dataclass(frozen=True)
class RunResult:
    """The folder a run wrote and the metrics it returned."""

    out_dir: Path
    metrics: dict[str, Any]
    seconds: float


def experiment(name: str, description: str, demo: bool = False) -> Callable[[Callable[[RunContext], dict]], Callable[[RunContext], dict]]:
    """Decorator that registers ``run(ctx) -> metrics`` under ``name``."""

    def register(fn: Callable[[RunContext], dict]) -> Callable[[RunContext], dict]:
        if name in _EXPERIMENTS and _EXPERIMENTS[name].run is not fn:
            raise RuntimeError(f"experiment {name!r} is registered twice")
        _EXPERIMENTS[name] = Experiment(name, description, fn, demo)
        return fn

    return register


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module("bayesdl.experiments")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in ("registry", "report"):
            importlib.import_module(f"bayesdl.experiments.{info.name}")
    _DISCOVERED = True


def list_experiments() -> dict[str, Experiment]:
    """All registered experiments by name, sorted."""
    _discover()
    return dict(sorted(_EXPERIMENTS.items()))


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or an InputError that lists the known names."""
    experiments = list_experiments()
    if name not in experiments:
        raise InputError(f"unknown experiment {name!r}; run 'bayesdl list' to see: {', '.join(experiments)}")
    return experiments[name]


def fresh_run_dir(base: str | Path, name: str) -> Path:
    """Create and return a new, empty folder ``base/<name>-<UTC time>[-k]``."""
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        candidate = base / (f"{name}-{stamp}" if k == 0 else f"{name}-{stamp}-{k}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a fresh run folder under {base}")


def check_metrics(metrics: Any, where: str = "metrics") -> None:
    """Raise if any number in a (nested) metrics dict is NaN or infinite: a broken run must not look fine."""
    if isinstance(metrics, dict):
        for k, v in metrics.items():
            check_metrics(v, f"{where}.{k}")
    elif isinstance(metrics, (list, tuple)):
        for i, v in enumerate(metrics):
            check_metrics(v, f"{where}[{i}]")
    elif isinstance(metrics, float) and not math.isfinite(metrics):
        raise FloatingPointError(f"{where} is {metrics}: the experiment produced a non-finite result")


def run_experiment(
    name: str,
    quick: bool = False,
    device: str | torch.device = "auto",
    out: str | Path = "runs",
    smoke: bool = False,
    seed: int = 0,
    progress: bool = False,
    out_dir: Path | None = None,
) -> RunResult:
    """Run experiment ``name`` into a fresh folder under ``out`` and write metrics.json, run.json and report.html."""
    from ..inference.trainer import resolve_device, seed_everything

    exp = get_experiment(name)
    run_dir = out_dir if out_dir is not None else fresh_run_dir(out, name)
    ctx = RunContext(out_dir=run_dir, quick=quick or smoke, smoke=smoke, device=resolve_device(device), seed=seed, progress=progress)
    seed_everything(seed)
    start = time.perf_counter()
    metrics = exp.run(ctx)
    seconds = time.perf_counter() - start
    check_metrics(metrics)
    atomic_write_json(run_dir / "metrics.json", metrics)
    info = {"experiment": name, "description": exp.description, "quick": quick or smoke, "smoke": smoke, "seed": seed,
            "device": str(ctx.device), "seconds": round(seconds, 2), "torch": torch.__version__,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    atomic_write_json(run_dir / "run.json", info)
    write_report(run_dir / "report.html", name, exp.description, info, metrics, ctx.figures, ctx.notes)
    return RunResult(run_dir, metrics, seconds)
