"""Bits per dimension: the one place where nats per example become bits per dimension."""

from __future__ import annotations

import math

import torch


def bits_per_dim(
    log_prob: torch.Tensor,
    num_dims: int,
    *,
    num_levels: int | None = None,
    log_det_preprocess: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Convert per-example log-densities (nats) into bits per dimension of the original discrete data.

    For data preprocessed by an invertible map y = g(u) of the dequantised values u in [0, 1)^D,
    log p(u) = log p(y) + log|det dg/du| (``log_det_preprocess``, per example or a constant). With
    ``num_levels`` = K levels per dimension, the dequantised density on [0, 1)^D relates to a
    discrete probability of the levels by a factor K^{-D} (Theis et al. 2016, arXiv:1511.01844):
    log P(levels) >= log p(u) - D log K. The result is ``-(log p(u) - D log K) / (D log 2)``.

    Arguments:
        log_prob: log-densities in nats per example, shape [B] (of the preprocessed data y).
        num_dims: D, the number of dimensions of one example.
        num_levels: K, the number of discrete levels (256 for 8-bit images), or None for data
            whose density is already over the discrete values (e.g. binary or categorical models).
        log_det_preprocess: log|det dg/du| of the preprocessing.

    Returns:
        bits/dim per example, shape [B].

    Example:
        >>> bits_per_dim(torch.tensor([0.0]), 4, num_levels=256)
        tensor([8.])

    References:
        Theis, van den Oord & Bethge (2016), A note on the evaluation of generative models, arXiv:1511.01844.
    """
    log_prob = log_prob + log_det_preprocess
    if num_levels is not None:
        log_prob = log_prob - num_dims * math.log(num_levels)
    return -log_prob / (num_dims * math.log(2.0))
