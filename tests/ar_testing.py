"""Exact checks shared by the autoregressive-model tests: enumeration of binary vectors and chi-square of samples."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from scipy.stats import chisquare


def all_binary(d: int) -> torch.Tensor:
    """All 2^d binary vectors [2^d, d], in lexicographic order."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=d)))


def state_index(x: torch.Tensor) -> torch.Tensor:
    """The lexicographic index of each binary row of x [n, d] (matching :func:`all_binary`)."""
    d = x.shape[1]
    weights = 2 ** torch.arange(d - 1, -1, -1)
    return (x.long() * weights).sum(1)


def chi_square_pvalue(samples: torch.Tensor, probs: torch.Tensor) -> float:
    """p-value of the chi-square test that binary ``samples`` [n, d] come from ``probs`` over all 2^d states."""
    counts = np.bincount(state_index(samples).numpy(), minlength=len(probs)).astype(float)
    expected = probs.double().numpy() * len(samples)
    expected *= counts.sum() / expected.sum()
    return float(chisquare(counts, expected).pvalue)
