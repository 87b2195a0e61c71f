"""One self-contained HTML page per run: provenance, the headline, a comparison table, notes and the figures inlined.

The comparison table has the compared methods as rows and the declared metrics as columns (units and the better
direction in the header, the best value of each column marked); run-level numbers go in a second small table.
Every number in it is one the experiment declared with :meth:`~bayesdl.experiments.registry.RunContext.report_metric`;
the full nested metrics stay in ``metrics.json`` beside the page, which the page links.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes
from .headline import ReportedMetric, best_methods, headline_lines, pivot

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;color:#1d2330;
     background:#fafbfc;max-width:1100px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.7em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #dde1e7;padding-bottom:.2em}
.lead{color:#4a5363;margin-top:0} a{color:#0b5cad}
table{border-collapse:collapse;margin:.6em 0;background:#fff;font-size:.92em}
th,td{border:1px solid #d5dae1;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{background:#e3f4e6;font-weight:700} caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
ul.headline{background:#fff;border:1px solid #d5dae1;border-left:4px solid #0b5cad;padding:.6em 1.6em}
table.prov td:first-child{color:#4a5363;white-space:nowrap} code{font-size:.9em;word-break:break-all}
figure{margin:1.4em 0;background:#fff;border:1px solid #e2e6eb;padding:.6em} img{max-width:100%;height:auto}
figcaption{color:#4a5363;font-size:.9em;margin-top:.3em} .small{color:#6a7383;font-size:.85em}
"""

PROVENANCE_KEYS = (
    "bayesdl",
    "git_commit",
    "command",
    "seed",
    "device",
    "cpu_capability",
    "cpu",
    "torch",
    "cuda",
    "python",
    "size",
    "overrides",
    "seconds",
    "finished",
)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    if value is None:
        return "-"
    if isinstance(value, dict):
        return html.escape(", ".join(f"{k}={v}" for k, v in value.items()) or "-")
    return html.escape(str(value))


def provenance_table(info: dict[str, Any]) -> str:
    """The provenance fields of ``info`` (version, commit, command, seed, device, CPU capability, ...) as an HTML table."""
    rows = []
    for key in PROVENANCE_KEYS:
        if key in info:
            shown = (
                f"<code>{html.escape(str(info[key]))}</code>"
                if key in ("command", "git_commit")
                else _cell(info[key])
            )
            rows.append(f"<tr><td>{html.escape(key.replace('_', ' '))}</td><td>{shown}</td></tr>")
    return f'<table class="prov">{"".join(rows)}</table>'


def comparison_tables(reported: list[ReportedMetric]) -> str:
    """HTML comparison tables, one per group: methods as rows, metrics as columns, the best of each column marked."""
    best = best_methods(reported)
    parts = []
    for group, (methods, columns, cells) in pivot(reported).items():
        heads = []
        for name in columns:
            example = next(cells[(m, name)] for m in methods if (m, name) in cells)
            heads.append(f"<th>{html.escape(example.label)} {example.arrow}</th>")
        body = []
        for method in methods:
            tds = []
            for name in columns:
                record = cells.get((method, name))
                if record is None:
                    tds.append('<td class="num">-</td>')
                    continue
                is_best = (group, name, method) in best
                mark = " ★" if is_best else ""
                tds.append(
                    f'<td class="num{" best" if is_best else ""}">{html.escape(record.formatted)}{mark}</td>'
                )
            body.append(f"<tr><th>{html.escape(method)}</th>{''.join(tds)}</tr>")
        caption = f"<caption>{html.escape(group)}</caption>" if group else ""
        parts.append(
            f'<table class="comparison">{caption}<tr><th>method</th>{"".join(heads)}</tr>{"".join(body)}</table>'
        )
    if parts:
        parts.append(
            '<p class="small">★ best in its column (↓ lower is better, ↑ higher is better); ± one standard '
            "error where the experiment estimates one. A bound is labelled as one in its header.</p>"
        )
    return "".join(parts)


def run_level_table(reported: list[ReportedMetric]) -> str:
    """The declared numbers that belong to no method, as a name / value table."""
    rows = [
        f"<tr><td>{html.escape(r.group + ': ' if r.group else '')}{html.escape(r.label)} {r.arrow}</td>"
        f'<td class="num">{html.escape(r.formatted)}</td></tr>'
        for r in reported
        if r.method is None
    ]
    return (
        f'<table class="run-level"><tr><th>metric</th><th>value</th></tr>{"".join(rows)}</table>'
        if rows
        else ""
    )


def page(title: str, body: str) -> bytes:
    """A complete HTML page with the shared style."""
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head>\n<body>{body}</body></html>\n"
    ).encode()


def write_report(
    path: Path,
    name: str,
    description: str,
    info: dict[str, Any],
    metrics: dict[str, Any],
    figures: list[tuple[str, str]],
    notes: list[str],
    reported: list[ReportedMetric] | None = None,
) -> Path:
    """Write ``report.html`` with the PNG figures embedded as data URIs, so the file stands alone.

    Arguments:
        path: the file to write.
        name: the experiment's name (the page title).
        description: its one-line description.
        info: the run's information (provenance, settings; see ``run.json``).
        metrics: the metrics the experiment returned (linked as metrics.json, not repeated).
        figures: ``(file name, caption)`` of each PNG in the page's folder.
        notes: sentences for the notes section (including the warnings collected during the run).
        reported: the declared metrics; they fill the headline list and the tables.

    Returns:
        The path written.
    """
    reported = list(reported or [])
    figs = []
    for filename, caption in figures:
        data = base64.b64encode((path.parent / filename).read_bytes()).decode()
        figs.append(
            f'<figure><img alt="{html.escape(caption or filename)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption or filename)}</figcaption></figure>"
        )
    heads = "".join(f"<li>{html.escape(line)}</li>" for line in headline_lines(reported))
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    settings = info.get("settings")
    settings_html = (
        f"<details><summary>settings of this run</summary><p><code>{_cell(settings)}</code></p></details>"
        if settings
        else ""
    )
    body = (
        f"<h1>{html.escape(name)}</h1><p class='lead'>{html.escape(description)}</p>"
        + (f'<h2>Headline</h2><ul class="headline">{heads}</ul>' if heads else "")
        + "<h2>Results</h2>"
        + (comparison_tables(reported) + run_level_table(reported) or "<p>(no declared metrics)</p>")
        + f'<p class="small">Every number the run returned: <a href="metrics.json">metrics.json</a> '
        f"({len(metrics)} top-level entries).</p>"
        + (f"<h2>Notes</h2><ul>{note_html}</ul>" if notes else "")
        + "<h2>Figures</h2>"
        + ("".join(figs) if figs else "<p>(none)</p>")
        + "<h2>Provenance</h2>"
        + provenance_table(info)
        + settings_html
    )
    return atomic_write_bytes(path, page(f"bayesdl: {name}", body))
