"""The interface every flow transform follows, and the composition of transforms.

Convention (the "normalizing" direction is ``forward``): a transform maps a data-side point x to a
base-side point z = f(x) and returns log|det df/dx| per example. By the change of variables,
log p(x) = log p_0(f(x)) + log|det df/dx|; equivalently, for samples x = g(z) drawn by pushing base
noise through g = f^{-1}, log q(x) = log q_0(z) - log|det dg/dz| (Rezende & Mohamed 2015,
arXiv:1505.05770, eq. 5-6; the minus sign is the one the seed notes get wrong).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Transform(nn.Module):
    """An invertible map with log-determinants in both directions.

    Subclasses implement ``forward(x, context) -> (z, log|det dz/dx|)`` and
    ``inverse(z, context) -> (x, log|det dx/dz|)``; both log-dets have shape [B].
    ``context`` is an optional conditioning tensor [B, C] (ignored by unconditional transforms).

    Example:
        >>> t = FlowSequence([])
        >>> z, ld = t(torch.ones(2, 3))
        >>> ld.tolist()
        [0.0, 0.0]
    """

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


def sum_except_batch(x: torch.Tensor) -> torch.Tensor:
    """Sum a tensor [B, ...] over every dimension but the first, giving [B].

    Flow transforms use it to turn elementwise log-scales into one log-determinant per example.

    Arguments:
        x: a tensor [B, ...] with at least one dimension.

    Returns:
        The per-example sums, shape [B].

    Example:
        >>> sum_except_batch(torch.ones(2, 3, 4))
        tensor([12., 12.])
    """
    return x.reshape(x.shape[0], -1).sum(1)


class FlowSequence(Transform):
    """The composition f = f_K o ... o f_1; log-dets add up.

    Arguments:
        transforms: the transforms in the data-to-base order.

    Example:
        >>> from bayesdl.nn.flows import Permutation
        >>> seq = FlowSequence([Permutation.reverse(3), Permutation.reverse(3)])
        >>> x = torch.randn(2, 3)
        >>> bool(torch.equal(seq(x)[0], x))
        True

    References:
        Rezende & Mohamed (2015), arXiv:1505.05770.
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        total = x.new_zeros(x.shape[0])
        for t in self.transforms:
            x, ld = t(x, context)
            total = total + ld
        return x, total

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        total = z.new_zeros(z.shape[0])
        for t in reversed(self.transforms):
            z, ld = t.inverse(z, context)
            total = total + ld
        return z, total
