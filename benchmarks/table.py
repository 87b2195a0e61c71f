"""Printing of benchmark rows, shared by every benchmarks/bench_*.py script."""

from __future__ import annotations

COLUMNS = ("task", "peer", "peer_figure", "bayesdl_figure", "ratio")


def print_rows(rows: list[dict]) -> None:
    """Print rows with the keys task, peer, peer_figure, bayesdl_figure and ratio as an aligned table."""
    cells = [[str(r.get(c, "")) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
