"""The summary of several runs: a table printed at the end and an index.html that links each report."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes
from .report import flatten_metrics


def key_metric(metrics: dict[str, Any]) -> tuple[str, Any]:
    """The headline figure of a run: the first (possibly nested) scalar whose name mentions a test
    quantity, else the first scalar.

    Example:
        >>> key_metric({"epochs": 3, "maf": {"test_nll": 1.5}})
        ('maf.test_nll', 1.5)
    """
    scalars = [(k, v) for k, v in flatten_metrics(metrics) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    for key, value in scalars:
        if "test" in key.lower():
            return key, value
    return scalars[0] if scalars else ("-", "-")


def format_summary(rows: list[tuple[str, Any]]) -> str:
    """A plain-text table: experiment, key metric, value, time."""
    table = [("experiment", "key metric", "value", "time")]
    for name, result in rows:
        key, value = key_metric(result.metrics)
        table.append((name, key, f"{value:.4g}" if isinstance(value, float) else str(value), f"{result.seconds:.1f} s"))
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in table)


def write_index(parent: Path, rows: list[tuple[str, Any]]) -> Path:
    """Write ``parent/report.html`` linking each run's report, with its key metric and time."""
    body = []
    for name, result in rows:
        key, value = key_metric(result.metrics)
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        rel = result.out_dir.relative_to(parent) / "report.html"
        body.append(f'<tr><td><a href="{html.escape(str(rel))}">{html.escape(name)}</a></td>'
                    f"<td>{html.escape(key)}</td><td>{html.escape(shown)}</td><td>{result.seconds:.1f} s</td></tr>")
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>bayesdl runs</title></head><body>"
            "<h1>bayesdl runs</h1><table border='1' cellpadding='4'><tr><th>experiment</th><th>key metric</th>"
            f"<th>value</th><th>time</th></tr>{''.join(body)}</table></body></html>\n")
    return atomic_write_bytes(parent / "report.html", page.encode())
