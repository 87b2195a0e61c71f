"""Figures and the bound evaluation shared by the diffusion experiments (no experiment is registered here)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch

from ..models.diffusion.bound import BoundTerms, variational_bound
from .image_grid import image_grid
from .style import IMAGE_CMAP


def bound_on(ctx, model, x0: torch.Tensor, label: str) -> BoundTerms:
    """The DDPM bound (all T steps, one x_t draw each) of ``x0``, seeded by the run, with a counted bar labelled ``label``.

    It is ``model.nll_bound(x0, seed=ctx.seed, return_terms=True)`` with the steps counted as they are evaluated.
    """
    model._check_data(x0)
    generator = torch.Generator(device=model.betas.device).manual_seed(ctx.seed)
    return variational_bound(model, x0, generator=generator, progress=ctx.progress_label(label))


def image_grid_figure(images: torch.Tensor, title: str, columns: int = 8):
    """A figure of diffusion-model images [N, 1, H, W] (or [N, H*W] square) in [-1, 1]: :func:`.image_grid.image_grid`."""
    return image_grid(images, cols=columns, title=title, value_range=(-1.0, 1.0))


def bound_terms_figure(terms: torch.Tensor, title: str):
    """Mean bound term L_{t-1} against t (log scale), from a [B, T] breakdown."""
    mean = terms.detach().cpu().mean(0)
    fig, ax = plt.subplots(figsize=(5, 3))
    steps = torch.arange(1, len(mean) + 1)
    ax.plot(steps[1:], mean[1:].clamp_min(1e-12))
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel(r"mean $L_{t-1}$ (nats)")
    ax.set_title(f"{title} ($L_0$ = {float(mean[0]):.3g} nats)", fontsize=9)
    return fig


def guidance_grid_figure(images: torch.Tensor, row_labels: list[str], num_classes: int, title: str):
    """Images [len(row_labels) * R * num_classes, H*W] (or [.., 1, H, W]) in [-1, 1], one block of R rows per label
    (e.g. one per guidance scale w), row-major with one column per class."""
    images = images.detach().cpu().float()
    if images.dim() == 2:
        side = int(math.isqrt(images.shape[1]))
        images = images.reshape(-1, 1, side, side)
    rows = len(images) // num_classes
    per_scale = rows // len(row_labels)
    fig, axes = plt.subplots(
        rows, num_classes, figsize=(num_classes * 0.7 + 0.6, rows * 0.7 + 0.5), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.imshow(((images[i, 0] + 1) / 2).clamp(0, 1).numpy(), cmap=IMAGE_CMAP, vmin=0, vmax=1)
        row, col = divmod(i, num_classes)
        if col == 0 and row % per_scale == 0:
            ax.set_ylabel(row_labels[row // per_scale], fontsize=8)
        if row == 0:
            ax.set_title(str(col), fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig
