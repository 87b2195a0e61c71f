"""scikit-learn's embedded diabetes regression data (Efron et al. 2004), standardised, with a fixed split."""

from __future__ import annotations

import numpy as np
import torch

from ..validation import check_choice

SPLITS = ("train", "test", "all")
#: training rows of the fixed split (the remaining 89 of 442 are the test set)
NUM_TRAIN = 353


def load_diabetes(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The 442-patient diabetes data: 10 baseline variables and a disease-progression score one year later.

    scikit-learn ships the inputs centred (mean 0 over all rows); here each column is also scaled to unit sd on
    the training rows, and the target is standardised with the training rows' mean and sd, so an RMSE of 1 is the
    training sd of the score (about 77 points).

    Arguments:
        split: "train" (353 rows), "test" (89) or "all" (442). The split comes from a fixed seeded permutation.

    Returns:
        ``(x, y)``: x float32 [N, 10] and y float32 [N].

    Example:
        >>> x, y = load_diabetes("test")
        >>> tuple(x.shape), tuple(y.shape)
        ((89, 10), (89,))

    References:
        Efron, Hastie, Johnstone & Tibshirani (2004), Least angle regression, Annals of Statistics 32(2).
    """
    check_choice(split, "split", SPLITS)
    from sklearn.datasets import load_diabetes as _sk_load_diabetes

    bunch = _sk_load_diabetes()
    order = np.random.default_rng(20241203).permutation(len(bunch.target))
    x = torch.as_tensor(bunch.data[order], dtype=torch.float32)
    y = torch.as_tensor(bunch.target[order], dtype=torch.float32)
    mean, sd = y[:NUM_TRAIN].mean(), y[:NUM_TRAIN].std()
    y = (y - mean) / sd
    x = x / x[:NUM_TRAIN].std(0)  # unit sd per column on the training rows
    if split == "train":
        return x[:NUM_TRAIN], y[:NUM_TRAIN]
    if split == "test":
        return x[NUM_TRAIN:], y[NUM_TRAIN:]
    return x, y
