"""The registry of runnable experiments and the machinery that runs one into a fresh folder.

An experiment is a function ``run(ctx: RunContext) -> dict`` registered with :func:`experiment`. It
trains and evaluates, saves its figures through ``ctx.save_figure`` and returns its metrics; the
runner writes ``metrics.json``, ``run.json`` and a self-contained ``report.html`` beside the PNGs.
Experiments live one per module in ``bayesdl/experiments/``; every module there is imported when the
registry is first listed. :mod:`bayesdl.experiments.catalog` reads the same names, descriptions and demo
flags from the decorators without importing anything (for ``bayesdl list``); a test checks that the two agree.

An experiment declares what it reports through :meth:`RunContext.report_metric` (see
:mod:`bayesdl.experiments.headline`), and may register a settings dataclass (see
:mod:`bayesdl.experiments.settings`) whose fields ``bayesdl run NAME --set key=value`` overrides.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..errors import InputError
from ..io import atomic_write_json
from .headline import BoundKind, Direction, ReportedMetric
from .provenance import provenance
from .report import write_report
from .settings import apply_overrides, run_size

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
        config: the experiment's settings dataclass for this run size with the ``--set`` overrides applied
            (None for an experiment without one).
        figures: ``(file name, caption)`` of each saved figure, in order (filled by :meth:`save_figure`).
        notes: sentences for the report (filled by :meth:`note`).
        reported: the declared metrics (filled by :meth:`report_metric`).

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
    config: Any = None
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reported: list[ReportedMetric] = field(default_factory=list)

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

    def phase(self, label: str) -> Any:
        """A context manager that shows ``label`` and the elapsed time while a long step runs (when ``progress``).

        Arguments:
            label: what runs, e.g. "AIS log Z (PCD)" or "DDPM ancestral sampling (1000 steps)".
        """
        from .progress import phase

        return phase(label, self.progress)

    def progress_label(self, label: str) -> bool | str:
        """What to pass as a Trainer's ``progress``: False when progress is off, else the bar's label."""
        return label if self.progress else False

    def report_metric(
        self,
        name: str,
        value: float,
        unit: str,
        better: Direction,
        *,
        method: str | None = None,
        se: float | None = None,
        bound: BoundKind | None = None,
        headline: bool = True,
        group: str = "",
    ) -> None:
        """Declare a number for the report's comparison table and, if ``headline``, for the summary and index.

        Arguments:
            name: the metric's name, e.g. "test NLL".
            value: its value (finite).
            unit: its unit ("nats/image", "%", "s", ...; "" for a pure number).
            better: "lower" or "higher".
            method: the compared method it belongs to (a row of the table); None for a run-level number.
            se: its standard error, where the experiment has one.
            bound: "upper" or "lower" if it is a bound on what the name says (an ELBO-based NLL is an upper bound).
            headline: show it in the printout, the summary and the index page.
            group: the table it belongs to when the report has several (e.g. one per data set).

        Example:
            >>> ctx = RunContext(out_dir=Path("."))
            >>> ctx.report_metric("test NLL", 0.31, "nats", "lower", method="MC dropout", se=0.02)
            >>> ctx.reported[0].label
            'test NLL [nats]'
        """
        self.reported.append(
            ReportedMetric(
                name,
                float(value),
                unit,
                better,
                method,
                None if se is None else float(se),
                bound,
                headline,
                group,
            )
        )


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its name, a one-line description, its function, and whether ``bayesdl demo`` tours it.

    Attributes:
        name: the name used by ``bayesdl run NAME`` (lower case with hyphens).
        description: a one-line description shown by ``bayesdl list``.
        run: the function ``run(ctx: RunContext) -> dict`` of JSON-able, finite metrics.
        demo: whether ``bayesdl demo`` runs it.
        config: the settings dataclass (with a class method ``preset(size)``), or None.

    Example:
        >>> exp = Experiment("noop", "does nothing", lambda ctx: {"value": 1.0})
        >>> exp.name, exp.demo, exp.run(None)
        ('noop', False, {'value': 1.0})
    """

    name: str
    description: str
    run: Callable[[RunContext], dict[str, Any]]
    demo: bool = False
    config: type | None = None


@dataclass(frozen=True)
class RunResult:
    """The folder a run wrote, the metrics it returned and the metrics it declared.

    Attributes:
        out_dir: the run folder (holds metrics.json, run.json, report.html and the figures).
        metrics: the metrics dict the experiment returned.
        seconds: the wall time of the experiment's ``run`` in seconds.
        reported: the metrics the experiment declared with :meth:`RunContext.report_metric`.

    Example:
        >>> result = RunResult(Path("runs/x"), {"nll": 0.5}, 1.25)
        >>> result.metrics["nll"], result.seconds
        (0.5, 1.25)
    """

    out_dir: Path
    metrics: dict[str, Any]
    seconds: float
    reported: list[ReportedMetric] = field(default_factory=list)


def experiment(
    name: str, description: str, demo: bool = False, config: type | None = None
) -> Callable[[Callable[[RunContext], dict]], Callable[[RunContext], dict]]:
    """Decorator that registers ``run(ctx) -> metrics`` under ``name``.

    Put it on the ``run`` function of a module in ``bayesdl/experiments/``; the module is found and
    imported automatically when experiments are first listed.

    Arguments:
        name: the experiment's name (unique; registering another function under it raises RuntimeError).
        description: a one-line description.
        demo: whether ``bayesdl demo`` runs it (only for experiments whose quick run takes < 60 s).
        config: a settings dataclass with a class method ``preset(size)`` for size "smoke", "quick" or
            "full"; the run gets ``ctx.config``, and ``--set`` overrides its fields.

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
        _EXPERIMENTS[name] = Experiment(name, description, fn, demo, config)
        return fn

    return register


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module("bayesdl.experiments")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in (
            "registry",
            "report",
            "catalog",
            "headline",
            "settings",
            "provenance",
            "summary",
        ):
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


def check_seed(seed: Any) -> int:
    """``seed`` if it is an integer in [0, 2**32); otherwise an InputError (torch, NumPy and Pyro all accept that range).

    Example:
        >>> check_seed(7)
        7
        >>> try:
        ...     check_seed(-1)
        ... except InputError as err:
        ...     print(err)
        seed must be an integer in [0, 2**32); got -1
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InputError(f"seed must be an integer in [0, 2**32); got {seed!r}")
    return seed


def check_device(device: str | torch.device) -> torch.device:
    """The torch device for ``device`` ("auto", "cpu", "cuda:1", ...), refusing CUDA when this torch has none.

    Example:
        >>> check_device("cpu")
        device(type='cpu')
    """
    from ..inference.trainer import resolve_device

    resolved = resolve_device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(
            f"device {str(device)!r} was asked for, but CUDA is not available in this torch build "
            f"({torch.__version__}); use --device cpu or auto"
        )
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise InputError(
            f"device {str(device)!r} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)"
        )
    return resolved


def experiment_config(exp: Experiment, size: str, overrides: Mapping[str, str] | None = None) -> Any:
    """The settings of ``exp`` at run size ``size`` with ``overrides`` applied (None for an experiment without settings).

    Raises:
        InputError: for overrides on an experiment without settings, or keys that name no setting.
    """
    if exp.config is None:
        if overrides:
            raise InputError(
                f"{exp.name} declares no settings, so --set {next(iter(overrides))}=... cannot apply"
            )
        return None
    return apply_overrides(exp.config.preset(size), overrides or {}, exp.name)


class _WarningLog:
    """Collects the warnings raised during a run, once per distinct (category, message, origin), with counts."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}

    def record(
        self, message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        origin = Path(filename).parent.name + "/" + Path(filename).name
        key = (
            category.__name__,
            str(message).strip().splitlines()[0] if str(message).strip() else "",
            origin,
        )
        self.counts[key] = self.counts.get(key, 0) + 1

    def notes(self) -> list[str]:
        return [
            f"Library warning ({category} from {origin}{f', {n} times' if n > 1 else ''}): {message}"
            for (category, message, origin), n in self.counts.items()
        ]


def run_experiment(
    name: str,
    quick: bool = False,
    device: str | torch.device = "auto",
    out: str | Path = "runs",
    smoke: bool = False,
    seed: int = 0,
    progress: bool = False,
    out_dir: Path | None = None,
    overrides: Mapping[str, str] | None = None,
    command: str | None = None,
) -> RunResult:
    """Run experiment ``name`` into a fresh folder under ``out`` and write metrics.json, run.json and report.html.

    Global random states are seeded with ``seed`` first, so a run is reproducible on the same machine. The
    name, seed, device and overrides are checked before any folder is made, so a run that cannot start
    leaves nothing behind; a run that fails before writing anything removes its (empty) fresh folder.
    Warnings raised while the experiment runs are collected into the report's notes instead of the terminal.

    Arguments:
        name: the experiment's name (see :func:`list_experiments`).
        quick: run the reduced settings (< ~90 s).
        device: "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:1", ... or a torch.device.
        out: the parent folder of the fresh run folder.
        smoke: run the tiny settings (< 15 s, for tests); implies ``quick``.
        seed: the seed of the run, an integer in [0, 2**32).
        progress: show progress bars.
        out_dir: write into this existing folder instead of a fresh one under ``out``.
        overrides: settings to change, dotted key -> text (``{"epochs": "5"}``); see :mod:`.settings`.
        command: the command line that started the run, for the report (default: this process's argv).

    Returns:
        A :class:`RunResult` with the folder, the metrics, the run's wall time in seconds and the declared metrics.

    Raises:
        InputError: for an unknown experiment name, a bad seed or device, or an unknown setting.
        FloatingPointError: if a metric is NaN or infinite.

    Example:
        >>> import json, tempfile
        >>> @experiment("doc-run", "a run_experiment doctest")
        ... def run(ctx):
        ...     ctx.report_metric("value", 2.5, "", "higher")
        ...     return {"value": 2.5, "smoke": ctx.smoke}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     result = run_experiment("doc-run", smoke=True, device="cpu", out=tmp)
        ...     files = sorted(p.name for p in result.out_dir.iterdir())
        ...     saved = json.loads((result.out_dir / "metrics.json").read_text())
        >>> files, saved, result.reported[0].value
        (['metrics.json', 'report.html', 'run.json'], {'value': 2.5, 'smoke': True}, 2.5)
        >>> del _EXPERIMENTS["doc-run"]  # keep the registry clean
    """
    exp = get_experiment(name)
    seed = check_seed(seed)
    resolved = check_device(device)
    size = run_size(quick, smoke)
    config = experiment_config(exp, size, overrides)
    fresh = out_dir is None
    run_dir = fresh_run_dir(out, name) if out_dir is None else Path(out_dir)
    try:
        return _run_in(exp, run_dir, size, resolved, seed, progress, config, overrides, command)
    except BaseException:
        if fresh and run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()  # only the empty folder this call made; never anything a user put there
        raise


def _run_in(
    exp: Experiment,
    run_dir: Path,
    size: str,
    device: torch.device,
    seed: int,
    progress: bool,
    config: Any,
    overrides: Mapping[str, str] | None,
    command: str | None,
) -> RunResult:
    from ..inference.trainer import seed_everything

    ctx = RunContext(
        out_dir=run_dir,
        quick=size != "full",
        smoke=size == "smoke",
        device=device,
        seed=seed,
        progress=progress,
        config=config,
    )
    # read before the run: the commit and the state of the tree are those of the code that runs, even if the
    # checkout changes while a long run goes on
    origin = provenance(
        command if command is not None else shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        seed,
        device,
    )
    seed_everything(seed)
    log = _WarningLog()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = log.record
        metrics = exp.run(ctx)
    seconds = time.perf_counter() - start
    check_metrics(metrics)
    atomic_write_json(run_dir / "metrics.json", metrics)
    info = {
        "experiment": exp.name,
        "description": exp.description,
        "size": size,
        "quick": ctx.quick,
        "smoke": ctx.smoke,
        **origin,
        "settings": _settings_json(config),
        "overrides": dict(overrides or {}),
        "seconds": round(seconds, 2),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reported_metrics": [m.to_json() for m in ctx.reported],
    }
    atomic_write_json(run_dir / "run.json", info)
    write_report(
        run_dir / "report.html",
        exp.name,
        exp.description,
        info,
        metrics,
        ctx.figures,
        ctx.notes + log.notes(),
        ctx.reported,
    )
    return RunResult(run_dir, metrics, seconds, list(ctx.reported))


def _settings_json(config: Any) -> Any:
    import dataclasses

    return dataclasses.asdict(config) if config is not None else None
