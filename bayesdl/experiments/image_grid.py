"""Grids of images for the experiments' figures: one mosaic, drawn once, in the shared colour map.

Every family shows digits or clothes the same way: the images are tiled into one array with a thin gap (one
``imshow``, not one axes per image), dark ink on a white ground (:data:`~bayesdl.experiments.style.IMAGE_CMAP`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .style import IMAGE_CMAP


def as_images(images: torch.Tensor) -> torch.Tensor:
    """``images`` as a float CPU tensor [n, H, W], from [n, H, W], [n, 1, H, W] or square flat [n, H*W].

    Example:
        >>> as_images(torch.zeros(3, 16)).shape, as_images(torch.zeros(2, 1, 5, 4)).shape
        (torch.Size([3, 4, 4]), torch.Size([2, 5, 4]))
    """
    images = images.detach().cpu().float()
    if images.dim() == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"flat images of {images.shape[1]} pixels are not square")
        return images.reshape(-1, side, side)
    if images.dim() == 4:
        if images.shape[1] != 1:
            raise ValueError(f"only single-channel images can be tiled, got {images.shape[1]} channels")
        return images[:, 0]
    if images.dim() != 3:
        raise ValueError(
            f"images must be [n, H, W], [n, 1, H, W] or [n, H*W]; got shape {list(images.shape)}"
        )
    return images


def tile(images: torch.Tensor, cols: int, fill: float = 0.5, gap: int = 1) -> torch.Tensor:
    """The images tiled row by row into one [rows*(H+gap)-gap, cols*(W+gap)-gap] mosaic; gaps and empty cells get ``fill``.

    Arguments:
        images: [n, H, W], [n, 1, H, W] or square flat [n, H*W].
        cols: images per row (the rows follow from n).
        fill: the value of the gaps (0.5: mid-grey; NaN: the axes' background, for signed colour maps).
        gap: pixels between neighbours.

    Example:
        >>> mosaic = tile(torch.ones(3, 2, 2), cols=2)
        >>> mosaic.shape, float(mosaic[2, 0]), float(mosaic[3, 3])  # a gap, and the empty fourth cell
        (torch.Size([5, 5]), 0.5, 0.5)
    """
    images = as_images(images)
    n, h, w = images.shape
    rows = max(1, math.ceil(n / cols))
    mosaic = torch.full((rows * (h + gap) - gap, cols * (w + gap) - gap), float(fill))
    for k in range(n):
        r, c = divmod(k, cols)
        mosaic[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = images[k]
    return mosaic


def image_grid(
    images: torch.Tensor,
    *,
    rows: int | None = None,
    cols: int | None = None,
    title: str = "",
    row_labels: Sequence[str] = (),
    value_range: tuple[float, float] = (0.0, 1.0),
    cell: float = 0.6,
) -> Any:
    """A figure of ``images`` in one mosaic, ``rows`` or ``cols`` of them (the other follows from their number).

    Arguments:
        images: [n, H, W], [n, 1, H, W] or square flat [n, H*W].
        rows, cols: the grid's rows or columns (give one; with both, images beyond rows x cols are left out).
        title: the figure's title.
        row_labels: a label to the left of each row.
        value_range: the values shown as white and as full ink ((-1, 1) for a diffusion model's images).
        cell: inches per image.

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = image_grid(torch.rand(6, 64), rows=2, title="six digits", row_labels=("a", "b"))
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['a', 'b']
    """
    import matplotlib.pyplot as plt

    images = as_images(images)
    if rows is None and cols is None:
        raise ValueError("give rows or cols")
    if cols is None:
        cols = math.ceil(len(images) / rows)
    if rows is not None:
        images = images[: rows * cols]
    shown_rows = max(1, math.ceil(len(images) / cols))
    low, high = value_range
    mosaic = tile(((images - low) / (high - low)).clamp(0, 1), cols)
    fig, ax = plt.subplots(
        figsize=(cols * cell + (0.6 if row_labels else 0.1), shown_rows * cell + (0.4 if title else 0.1))
    )
    ax.imshow(mosaic.numpy(), cmap=IMAGE_CMAP, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    h = images.shape[1]
    ax.set_yticks([r * (h + 1) + h / 2 for r in range(len(row_labels))], list(row_labels), fontsize=7)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
