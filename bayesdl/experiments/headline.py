"""The numbers an experiment reports on its front page, declared explicitly by the experiment.

Each experiment calls :meth:`RunContext.report_metric` for what it wants shown: the metric's name, value,
unit, whether lower or higher is better, whether it is a bound, its standard error where one exists, and, in
an experiment that compares methods, which method it belongs to. Those declared with ``headline=True`` are
what the per-run printout, the summary and the index page show; all of them fill the comparison table of the
run's report (methods as rows, metrics as columns).

For a metric reported by several methods, :func:`compare` names the best method and its margin over the
runner-up; the margin's standard error combines the two standard errors as if the estimates were
independent, which is conservative for estimates on the same test set when their errors are positively
correlated.

No heavy imports: the summary and the command line use this module without loading torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..errors import InputError

Direction = Literal["lower", "higher", "none"]
BoundKind = Literal["upper", "lower"]


@dataclass(frozen=True)
class ReportedMetric:
    """One reported number.

    Attributes:
        name: the metric's name, e.g. ``"test NLL"``.
        value: its value.
        unit: its unit, e.g. ``"nats/image"``, ``"%"``, ``"s"``; ``""`` for a pure number.
        better: ``"lower"`` or ``"higher"``: which direction is better; ``"none"`` for a number that is not
            ranked (an interval coverage, whose target is its nominal level).
        method: the method (row of the comparison table) the value belongs to; None for a run-level value.
        se: the standard error of the value, where the experiment has one.
        bound: ``"upper"`` or ``"lower"`` if the value is a bound on the quantity its name says, else None.
        headline: shown in the printout, the summary and the index page (otherwise only in the report's table).
        group: the table it goes in, for experiments with several (e.g. one per data set); ``""`` for one table.

    Example:
        >>> m = ReportedMetric("test NLL", 0.25, "nats", "lower", method="MC dropout", se=0.01)
        >>> m.label, m.formatted
        ('test NLL [nats]', '0.25 ± 0.01')
    """

    name: str
    value: float
    unit: str
    better: Direction
    method: str | None = None
    se: float | None = None
    bound: BoundKind | None = None
    headline: bool = True
    group: str = ""

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher", "none"):
            raise InputError(
                f"better must be 'lower', 'higher' or 'none'; got {self.better!r} for metric {self.name!r}"
            )
        if self.bound not in (None, "upper", "lower"):
            raise InputError(
                f"bound must be None, 'upper' or 'lower'; got {self.bound!r} for metric {self.name!r}"
            )
        if (
            not isinstance(self.value, (int, float))
            or isinstance(self.value, bool)
            or not math.isfinite(self.value)
        ):
            raise InputError(f"metric {self.name!r} must be a finite number; got {self.value!r}")
        if self.se is not None and not (isinstance(self.se, (int, float)) and self.se >= 0):
            raise InputError(
                f"the standard error of metric {self.name!r} must be a number >= 0 or None; got {self.se!r}"
            )

    @property
    def label(self) -> str:
        """The column header: name, ``(bound)`` if a bound, and the unit in brackets."""
        bound = f" ({self.bound} bound)" if self.bound else ""
        return f"{self.name}{bound}" + (f" [{self.unit}]" if self.unit else "")

    @property
    def arrow(self) -> str:
        """``"↓"`` when lower is better, ``"↑"`` when higher is, ``""`` for an unranked number."""
        return {"lower": "↓", "higher": "↑", "none": ""}[self.better]

    @property
    def formatted(self) -> str:
        """The value with 4 significant digits, and ``± se`` when the standard error is known."""
        text = format_number(self.value)
        return text + (f" ± {format_number(self.se, 2)}" if self.se is not None else "")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (see :func:`from_json`)."""
        return asdict(self)


def from_json(data: dict[str, Any]) -> ReportedMetric:
    """The :class:`ReportedMetric` written by :meth:`ReportedMetric.to_json`.

    Example:
        >>> m = ReportedMetric("accuracy", 97.5, "%", "higher")
        >>> from_json(m.to_json()) == m
        True
    """
    return ReportedMetric(**data)


def format_number(value: float | None, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits (``"-"`` for None).

    Example:
        >>> format_number(0.000123456), format_number(1234.5678), format_number(None)
        ('0.0001235', '1235', '-')
    """
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


@dataclass(frozen=True)
class Comparison:
    """The best method for one metric, and its margin over the runner-up.

    Attributes:
        group: the table the metric is in.
        name: the metric's name.
        best: the best method's record.
        runner_up: the second-best method's record.
        margin: how much better the best is than the runner-up (>= 0, in the metric's unit).
        margin_se: the margin's standard error when both methods have one (independent-errors combination).
        num_methods: how many methods reported the metric.
    """

    group: str
    name: str
    best: ReportedMetric
    runner_up: ReportedMetric
    margin: float
    margin_se: float | None
    num_methods: int

    @property
    def text(self) -> str:
        """One line, e.g. ``test NLL [nats]: best MADE 20.1 ± 0.3, by 0.8 ± 0.4 over NADE (4 methods)``."""
        margin = format_number(self.margin, 3) + (
            f" ± {format_number(self.margin_se, 2)}" if self.margin_se is not None else ""
        )
        where = f"{self.group}: " if self.group else ""
        lead = f"{where}{self.best.label} {self.best.arrow}: best {self.best.method} {self.best.formatted}, "
        if self.margin == 0:
            return lead + f"tied with {self.runner_up.method} ({self.num_methods} methods)"
        return lead + f"by {margin} over {self.runner_up.method} ({self.num_methods} methods)"


def _ranked(records: list[ReportedMetric]) -> list[ReportedMetric]:
    sign = 1.0 if records[0].better == "lower" else -1.0
    return sorted(records, key=lambda m: sign * m.value)


def compare(records: list[ReportedMetric]) -> list[Comparison]:
    """For every (group, metric) reported by two or more methods: the best method and its margin.

    Example:
        >>> rows = [ReportedMetric("NLL", 0.30, "nats", "lower", method="A", se=0.03),
        ...         ReportedMetric("NLL", 0.25, "nats", "lower", method="B", se=0.04)]
        >>> (c,) = compare(rows)
        >>> c.best.method, round(c.margin, 3), round(c.margin_se, 3)
        ('B', 0.05, 0.05)
    """
    out = []
    for (group, name), rows in _by_metric(records).items():
        methods = [r for r in rows if r.method is not None]
        if len(methods) < 2 or methods[0].better == "none":
            continue
        best, second = _ranked(methods)[:2]
        margin_se = math.hypot(best.se, second.se) if best.se is not None and second.se is not None else None
        out.append(
            Comparison(group, name, best, second, abs(best.value - second.value), margin_se, len(methods))
        )
    return out


def _by_metric(records: list[ReportedMetric]) -> dict[tuple[str, str], list[ReportedMetric]]:
    grouped: dict[tuple[str, str], list[ReportedMetric]] = {}
    for r in records:
        grouped.setdefault((r.group, r.name), []).append(r)
    return grouped


def headline_lines(records: list[ReportedMetric]) -> list[str]:
    """The headline metrics as text lines: one comparison line per compared metric, one line per other value.

    Example:
        >>> rows = [ReportedMetric("accuracy", 96.0, "%", "higher", method="A"),
        ...         ReportedMetric("accuracy", 97.0, "%", "higher", method="B"),
        ...         ReportedMetric("max R-hat", 1.01, "", "lower")]
        >>> for line in headline_lines(rows):
        ...     print(line)
        accuracy [%] ↑: best B 97, by 1 over A (2 methods)
        max R-hat ↓: 1.01
    """
    heads = [r for r in records if r.headline]
    compared = {(c.group, c.name): c for c in compare(heads)}
    lines, seen = [], set()
    for r in heads:
        key = (r.group, r.name)
        if key in compared:
            if key not in seen:
                lines.append(compared[key].text)
                seen.add(key)
            continue
        where = f"{r.group}: " if r.group else ""
        who = f"{r.method}: " if r.method else ""
        lines.append(f"{where}{who}{r.label}{' ' + r.arrow if r.arrow else ''}: {r.formatted}")
    return lines


def pivot(
    records: list[ReportedMetric],
) -> dict[str, tuple[list[str], list[str], dict[tuple[str, str], ReportedMetric]]]:
    """The comparison tables: per group, (method rows, metric columns, (method, metric) -> record).

    Only records with a method are pivoted; column and row orders are the order of first appearance.

    Example:
        >>> rows = [ReportedMetric("NLL", 0.3, "nats", "lower", method="A"), ReportedMetric("NLL", 0.2, "nats", "lower", method="B")]
        >>> methods, columns, cells = pivot(rows)[""]
        >>> methods, columns, cells[("B", "NLL")].value
        (['A', 'B'], ['NLL'], 0.2)
    """
    tables: dict[str, tuple[list[str], list[str], dict[tuple[str, str], ReportedMetric]]] = {}
    for r in records:
        if r.method is None:
            continue
        methods, columns, cells = tables.setdefault(r.group, ([], [], {}))
        if r.method not in methods:
            methods.append(r.method)
        if r.name not in columns:
            columns.append(r.name)
        cells[(r.method, r.name)] = r
    return tables


def best_methods(records: list[ReportedMetric]) -> set[tuple[str, str, str]]:
    """The (group, metric, method) cells that are best in their column (ties all count).

    Example:
        >>> rows = [ReportedMetric("acc", 90.0, "%", "higher", method="A"), ReportedMetric("acc", 95.0, "%", "higher", method="B")]
        >>> best_methods(rows)
        {('', 'acc', 'B')}
    """
    out = set()
    for (group, name), rows in _by_metric(records).items():
        methods = [r for r in rows if r.method is not None]
        if len(methods) < 2 or methods[0].better == "none":
            continue
        top = _ranked(methods)[0].value
        out |= {(group, name, r.method) for r in methods if r.value == top}
    return out
