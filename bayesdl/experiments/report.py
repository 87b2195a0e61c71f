"""A small self-contained HTML report: run information, a metrics table and the figures inlined."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes


def flatten_metrics(metrics: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested metrics as (dotted key, leaf value) pairs, in order."""
    if isinstance(metrics, dict):
        rows: list[tuple[str, Any]] = []
        for k, v in metrics.items():
            rows += flatten_metrics(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    return [(prefix, metrics)]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, list) and len(value) > 8:
        return html.escape(str([_fmt(v) for v in value[:8]])[:-1] + ", ...]")
    return html.escape(str(value))


def write_report(
    path: Path,
    name: str,
    description: str,
    info: dict[str, Any],
    metrics: dict[str, Any],
    figures: list[tuple[str, str]],
    notes: list[str],
) -> Path:
    """Write ``report.html`` with the PNG figures embedded as data URIs, so the file stands alone."""
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in flatten_metrics(metrics))
    info_rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{_fmt(v)}</td></tr>" for k, v in info.items())
    figs = []
    for filename, caption in figures:
        data = base64.b64encode((path.parent / filename).read_bytes()).decode()
        figs.append(
            f'<figure><img alt="{html.escape(filename)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption or filename)}</figcaption></figure>"
        )
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bayesdl: {html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;}} table{{border-collapse:collapse}}
td{{border:1px solid #ccc;padding:2px 8px}} img{{max-width:100%}} figure{{margin:1em 0}}</style></head>
<body><h1>{html.escape(name)}</h1><p>{html.escape(description)}</p>
<h2>Run</h2><table>{info_rows}</table>
<h2>Metrics</h2><table>{rows}</table>
{f"<h2>Notes</h2><ul>{note_html}</ul>" if notes else ""}
<h2>Figures</h2>{"".join(figs) if figs else "<p>(none)</p>"}
</body></html>
"""
    return atomic_write_bytes(path, page.encode())
