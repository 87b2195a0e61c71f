"""The 8x8 handwritten digits that ship with scikit-learn: the embedded data set of bayesdl.

1797 images of 8x8 pixels with 17 grey levels (0..16), rescaled to [0, 1]. The train/test split
is fixed by a seeded permutation: 1500 training and 297 test images.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validation import check_choice
from .binarize import apply_binarize_mode

NUM_TRAIN = 1500
SPLITS = ("train", "test", "all")
DIGITS_LEVELS = 17  # scikit-learn's digits take integer values 0..16


def load_digits_levels(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Load scikit-learn's 8x8 digits as their raw integer grey levels (0..16), for a fixed split.

    Use this when a model needs the discrete levels themselves (e.g. dequantisation with
    ``num_levels=17`` or a categorical likelihood over levels); :func:`load_digits` rescales them to [0, 1].

    Arguments:
        split: "train" (1500 images), "test" (297) or "all" (1797). The split comes from a fixed seeded
            permutation, so it is the same in every run.

    Returns:
        ``(levels, y)``: levels int64 [N, 64] in {0..16} (rows are 8x8 images flattened row by row) and
        labels int64 [N] in {0..9}.

    Example:
        >>> levels, y = load_digits_levels("test")
        >>> tuple(levels.shape), levels.dtype, int(levels.min()), int(levels.max())
        ((297, 64), torch.int64, 0, 16)

    References:
        Alpaydin & Kaynak (1998), Optical Recognition of Handwritten Digits, UCI Machine Learning Repository.
    """
    check_choice(split, "split", SPLITS)
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    levels = torch.as_tensor(bunch.data.astype(np.int64))
    labels = torch.as_tensor(bunch.target.astype(np.int64))
    order = torch.as_tensor(np.random.default_rng(20240601).permutation(len(labels)))
    levels, labels = levels[order], labels[order]
    if split == "train":
        return levels[:NUM_TRAIN], labels[:NUM_TRAIN]
    if split == "test":
        return levels[NUM_TRAIN:], labels[NUM_TRAIN:]
    return levels, labels


def load_digits(
    split: str = "train", binarize: str | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load scikit-learn's 8x8 digits as float32 images in [0, 1] of shape [N, 64] and int64 labels.

    Arguments:
        split: "train" (1500 images), "test" (297) or "all" (1797). The split is fixed.
        binarize: None for grey levels, "static" for one seeded Bernoulli draw, or "dynamic" to get
            grey levels meant to be redrawn per batch by :class:`bayesdl.data.BatchLoader`.
        seed: the seed of the static binarisation.

    Returns:
        ``(x, y)`` with x float32 [N, 64] in [0, 1] and y int64 [N] in {0..9}.

    Example:
        >>> x, y = load_digits("test")
        >>> tuple(x.shape), x.dtype, int(y.max())
        ((297, 64), torch.float32, 9)

    References:
        Alpaydin & Kaynak (1998), Optical Recognition of Handwritten Digits, UCI Machine Learning Repository.
    """
    levels, labels = load_digits_levels(split)
    x = levels.float() / (DIGITS_LEVELS - 1)
    return apply_binarize_mode(x, binarize, seed), labels
