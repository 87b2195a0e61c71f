"""Command-line plumbing shared by the examples: the arguments every example takes, and where figures go.

Nothing about models lives here; each example builds its data, model and trainer itself. An example run with
``--smoke`` uses tiny settings (seconds; it checks that the script runs, its numbers mean nothing).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def make_parser(name: str, description: str | None) -> argparse.ArgumentParser:
    """An argument parser with ``--seed``, ``--device``, ``--out`` (default ``runs/examples/NAME``) and ``--smoke``."""
    parser = argparse.ArgumentParser(
        prog=f"examples/{name}.py",
        description=(description or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the data split, the initialisation and the draws"
    )
    parser.add_argument("--device", default="cpu", help='"cpu", "cuda", "cuda:1" or "auto"')
    parser.add_argument(
        "--out", type=Path, default=Path("runs") / "examples" / name, help="folder for the figures"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny settings that run in seconds (numbers are meaningless)"
    )
    return parser


def parse_args(
    parser: argparse.ArgumentParser, argv: list[str] | None = None, *, smoke: dict[str, Any]
) -> argparse.Namespace:
    """Parse ``argv``; with ``--smoke``, replace the settings named in ``smoke`` by its tiny values."""
    args = parser.parse_args(argv)
    if args.smoke:
        for key, value in smoke.items():
            setattr(args, key, value)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def save_figure(fig: Any, args: argparse.Namespace, name: str) -> Path:
    """Write ``fig`` as ``<out>/<name>.png``, close it and print the path."""
    import matplotlib.pyplot as plt

    path = args.out / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
    return path


def image_grid(images: Any, rows: int, title: str = "", row_labels: tuple[str, ...] = ()) -> Any:
    """A figure of square grey images [n, side*side] or [n, 1, side, side] with values in [0, 1], in ``rows`` rows.

    Every example draws images the same way: dark ink on a white background (``cmap="gray_r"``).
    """
    import matplotlib.pyplot as plt

    images = images.detach().cpu().reshape(len(images), -1)
    side = round(images.shape[1] ** 0.5)
    cols = -(-len(images) // rows)
    fig, axes = plt.subplots(
        rows, cols, figsize=(cols * 0.8, rows * 0.8 + (0.4 if title else 0.0)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
    for r, label in enumerate(row_labels):
        axes[r, 0].set_title(label, fontsize=7, loc="left")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
