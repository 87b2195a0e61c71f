"""The summary of several runs: a table printed at the end and an index page that links each report.

Both show exactly the headline metrics each experiment declared (see :mod:`bayesdl.experiments.headline`):
for a metric compared across methods, the best method, its value and its margin over the runner-up.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes
from .headline import headline_lines
from .report import page


def format_summary(rows: list[tuple[str, Any]]) -> str:
    """A plain-text table: experiment, time, and its headline lines (one per line).

    Arguments:
        rows: ``(experiment name, RunResult)`` pairs.

    Example:
        >>> from types import SimpleNamespace
        >>> from bayesdl.experiments.headline import ReportedMetric
        >>> result = SimpleNamespace(seconds=1.5, reported=[ReportedMetric("NLL", 0.3, "nats", "lower", method="A"),
        ...                                                 ReportedMetric("NLL", 0.2, "nats", "lower", method="B")])
        >>> print(format_summary([("demo", result)]))
        experiment  time   headline
        demo        1.5 s  NLL [nats] ↓: best B 0.2, by 0.1 over A (2 methods)
    """
    table = [("experiment", "time", "headline")]
    for name, result in rows:
        lines = headline_lines(result.reported) or ["(no headline declared)"]
        table.append((name, f"{result.seconds:.1f} s", lines[0]))
        table += [("", "", line) for line in lines[1:]]
    widths = [max(len(r[i]) for r in table) for i in range(2)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in table)


def write_index(parent: Path, rows: list[tuple[str, Any]], command: str | None = None) -> Path:
    """Write ``parent/report.html``: a table linking every run's report, with its headline metrics and time.

    Arguments:
        parent: the folder holding the run folders.
        rows: ``(experiment name, RunResult)`` pairs.
        command: the command that made the runs, shown at the top.

    Returns:
        The path of the index page.
    """
    from .provenance import bayesdl_version, git_commit

    body = []
    for name, result in rows:
        rel = (result.out_dir.relative_to(parent) / "report.html").as_posix()
        lines = (
            "".join(f"<li>{html.escape(line)}</li>" for line in headline_lines(result.reported))
            or "<li>-</li>"
        )
        body.append(
            f'<tr><td><a href="{html.escape(rel)}">{html.escape(name)}</a></td>'
            f'<td><ul style="margin:0;padding-left:1.1em">{lines}</ul></td><td class="num">{result.seconds:.1f} s</td></tr>'
        )
    commit = git_commit()
    prov = (
        f"<p class='small'>bayesdl {html.escape(bayesdl_version())}"
        + (f", commit <code>{html.escape(commit)}</code>" if commit else "")
        + (f"; command <code>{html.escape(command)}</code>" if command else "")
        + "</p>"
    )
    content = (
        f"<h1>bayesdl runs</h1><p class='lead'>{len(rows)} runs. Each name links to its report; the headline "
        "is what the experiment declares (for compared methods: the best one, and its margin over the "
        "runner-up).</p>"
        + prov
        + f"<table class='index'><tr><th>experiment</th><th>headline</th><th>time</th></tr>{''.join(body)}</table>"
    )
    return atomic_write_bytes(parent / "report.html", page("bayesdl runs", content))
