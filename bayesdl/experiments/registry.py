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

    Attributes:
        out_dir: the run folder; figures and result files go here.
        quick: run at the reduced "quick" settings (< ~90 s).
        smoke: run at the tiny "smoke" settings (< 15 s); implies ``quick``.
        device: the torch device to compute on.
        seed: the seed of the run (the runner has already called ``seed_everything(seed)``).
        progress: show progress bars.
        figures: ``(file name, caption)`` of each saved figure, in order (filled by :meth:`save_figure`).
        notes: sentences for the report (filled by :meth:`note`).

    Example:
        >>> import tempfile
        >>> import matplotlib.pyplot as plt
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     ctx = RunContext(out_dir=Path(tmp), smoke=True)
        ...     path = ctx.save_figure(plt.figure(), "empty", "an empty figure")
        ...     ctx.note("Nothing here is a bound.")
        ...     print(path.name, ctx.figures, len(ctx.notes))
        empty.png [('empty.png', 'an empty figure')] 1
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
        """Save a matplotlib figure as ``<name>.png`` in the run folder, close it, and list it in the report.

        Arguments:
            fig: a matplotlib Figure.
            name: the file stem (without ".png").
            caption: the caption shown under the figure in report.html.

        Returns:
            The path of the PNG written.
        """
        import matplotlib.pyplot as plt

        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append((path.name, caption))
        return path

    def note(self, text: str) -> None:
        """Add a sentence to the report (for example, which number is a bound).

        Arguments:
            text: the sentence, shown in report.html in the order notes were added.
        """
        self.notes.append(text)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its name, a one-line description, its function, and whether ``bayesdl demo`` tours it.

    Attributes:
        name: the name used by ``bayesdl run NAME`` (lower case with hyphens).
        description: a one-line description shown by ``bayesdl list``.
        run: the function ``run(ctx: RunContext) -> dict`` of JSON-able, finite metrics.
        demo: whether ``bayesdl demo`` runs it.

    Example:
        >>> exp = Experiment("noop", "does nothing", lambda ctx: {"value": 1.0})
        >>> exp.name, exp.demo, exp.run(None)
        ('noop', False, {'value': 1.0})
    """

    name: str
    description: str
    run: Callable[[RunContext], dict[str, Any]]
    demo: bool = False


@dataclass(frozen=True)
class RunResult:
    """The folder a run wrote and the metrics it returned.

    Attributes:
        out_dir: the run folder (holds metrics.json, run.json, report.html and the figures).
        metrics: the metrics dict the experiment returned.
        seconds: the wall time of the experiment's ``run`` in seconds.

    Example:
        >>> result = RunResult(Path("runs/x"), {"nll": 0.5}, 1.25)
        >>> result.metrics["nll"], result.seconds
        (0.5, 1.25)
    """

    out_dir: Path
    metrics: dict[str, Any]
    seconds: float


def experiment(name: str, description: str, demo: bool = False) -> Callable[[Callable[[RunContext], dict]], Callable[[RunContext], dict]]:
    """Decorator that registers ``run(ctx) -> metrics`` under ``name``.

    Put it on the ``run`` function of a module in ``bayesdl/experiments/``; the module is found and
    imported automatically when experiments are first listed.

    Arguments:
        name: the experiment's name (unique; registering another function under it raises RuntimeError).
        description: a one-line description.
        demo: whether ``bayesdl demo`` runs it (only for experiments whose quick run takes < 60 s).

    Returns:
        The decorator; it registers the function and returns it unchanged.

    Example:
        >>> @experiment("doc-example", "a registry doctest")
        ... def run(ctx):
        ...     return {"answer": 42.0}
        >>> registered = _EXPERIMENTS.pop("doc-example")  # look it up, and keep the registry clean
        >>> registered.description, registered.run is run
        ('a registry doctest', True)
    """

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
    """All registered experiments by name, sorted.

    The first call imports every module of ``bayesdl.experiments`` so that their decorators run.

    Returns:
        A dict from name to :class:`Experiment`, sorted by name.

    Example:
        >>> experiments = list_experiments()
        >>> "svi-logistic" in experiments, list(experiments) == sorted(experiments)
        (True, True)
    """
    _discover()
    return dict(sorted(_EXPERIMENTS.items()))


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or an InputError that lists the known names.

    Arguments:
        name: an experiment name, as shown by ``bayesdl list``.

    Returns:
        The :class:`Experiment`.

    Example:
        >>> get_experiment("svi-logistic").name
        'svi-logistic'
        >>> try:
        ...     get_experiment("no-such-experiment")
        ... except InputError:
        ...     print("InputError")
        InputError
    """
    experiments = list_experiments()
    if name not in experiments:
        raise InputError(f"unknown experiment {name!r}; run 'bayesdl list' to see: {', '.join(experiments)}")
    return experiments[name]


def fresh_run_dir(base: str | Path, name: str) -> Path:
    """Create and return a new, empty folder ``base/<name>-<UTC time>[-k]``.

    Arguments:
        base: the parent folder (created if missing).
        name: the experiment name, used as the folder's prefix.

    Returns:
        The new folder; a suffix ``-k`` keeps two runs started in the same second apart.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     first, second = fresh_run_dir(tmp, "demo"), fresh_run_dir(tmp, "demo")
        ...     print(first != second, first.name.startswith("demo-"), list(first.iterdir()))
        True True []
    """
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
    """Raise if any number in a (nested) metrics dict is NaN or infinite: a broken run must not look fine.

    Arguments:
        metrics: a metrics value: a dict, list or tuple (searched recursively) or a leaf.
        where: the name used for the offending entry in the error message.

    Returns:
        None; raises FloatingPointError naming the first non-finite entry.

    Example:
        >>> check_metrics({"nll": 0.3, "curve": [1.0, 2.0]})
        >>> try:
        ...     check_metrics({"curve": [1.0, float("nan")]})
        ... except FloatingPointError as err:
        ...     print(err)
        metrics.curve[1] is nan: the experiment produced a non-finite result
    """
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
    """Run experiment ``name`` into a fresh folder under ``out`` and write metrics.json, run.json and report.html.

    Global random states are seeded with ``seed`` first, so a run is reproducible on the same machine.

    Arguments:
        name: the experiment's name (see :func:`list_experiments`).
        quick: run the reduced settings (< ~90 s).
        device: "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:1", ... or a torch.device.
        out: the parent folder of the fresh run folder.
        smoke: run the tiny settings (< 15 s, for tests); implies ``quick``.
        seed: the seed of the run.
        progress: show progress bars.
        out_dir: write into this existing folder instead of a fresh one under ``out``.

    Returns:
        A :class:`RunResult` with the folder, the metrics and the run's wall time in seconds.

    Raises:
        InputError: for an unknown experiment name.
        FloatingPointError: if a metric is NaN or infinite.

    Example:
        >>> import json, tempfile
        >>> @experiment("doc-run", "a run_experiment doctest")
        ... def run(ctx):
        ...     return {"value": 2.5, "smoke": ctx.smoke}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     result = run_experiment("doc-run", smoke=True, device="cpu", out=tmp)
        ...     files = sorted(p.name for p in result.out_dir.iterdir())
        ...     saved = json.loads((result.out_dir / "metrics.json").read_text())
        >>> files, saved
        (['metrics.json', 'report.html', 'run.json'], {'value': 2.5, 'smoke': True})
        >>> del _EXPERIMENTS["doc-run"]  # keep the registry clean
    """
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
