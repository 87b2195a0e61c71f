"""Predictive metrics: negative log-likelihood and accuracy (calibration metrics join these)."""

from __future__ import annotations

import torch

from ..errors import InputError
from ..validation import check_tensor


def _check_probs_labels(probs: torch.Tensor, labels: torch.Tensor) -> None:
    check_tensor(probs, "probs", ndim=2)
    check_tensor(labels, "labels", shape=[probs.shape[0]])
    if labels.is_floating_point() or int(labels.min()) < 0 or int(labels.max()) >= probs.shape[1]:
        raise InputError(f"labels must be integers in [0, {probs.shape[1] - 1}]")
    if float(probs.min()) < 0 or not torch.allclose(probs.sum(-1), torch.ones_like(probs[:, 0]), atol=1e-4):
        raise InputError("probs must be non-negative and sum to 1 over the last dimension")


def nll(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean negative log-likelihood -1/N sum_i log p(y_i | x_i) in nats, from predictive probabilities [N, C].

    A zero probability on a true label gives ``inf``; nothing is clipped.

    Example:
        >>> round(nll(torch.tensor([[0.5, 0.5], [0.9, 0.1]]), torch.tensor([0, 0])), 4)
        0.3993
    """
    _check_probs_labels(probs, labels)
    picked = probs.gather(1, labels.unsqueeze(1)).squeeze(1)
    return float(-picked.log().mean())


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of examples whose most probable class is the label."""
    _check_probs_labels(probs, labels)
    return float((probs.argmax(1) == labels).float().mean())
