"""Fixed permutations of the feature (or channel) dimension: volume preserving, log|det| = 0."""

from __future__ import annotations

import torch

from ...errors import InputError
from ...validation import check_positive_int
from .base import Transform


class Permutation(Transform):
    """z = x[:, perm] along dimension 1 (features of vectors, channels of images).

    Arguments:
        permutation: a permutation of 0..D-1.

    Example:
        >>> Permutation.reverse(3)(torch.tensor([[1., 2., 3.]]))[0].tolist()
        [[3.0, 2.0, 1.0]]

    References:
        Dinh, Krueger & Bengio (2014), NICE, arXiv:1410.8516 (alternating the dimensions that are updated).
    """

    def __init__(self, permutation: torch.Tensor) -> None:
        super().__init__()
        permutation = torch.as_tensor(permutation).long()
        if sorted(permutation.tolist()) != list(range(len(permutation))):
            raise InputError("permutation must contain each of 0..D-1 exactly once")
        self.register_buffer("permutation", permutation)
        self.register_buffer("inverse_permutation", torch.argsort(permutation))

    @classmethod
    def reverse(cls, features: int) -> Permutation:
        """The order-reversing permutation of ``features`` dimensions."""
        check_positive_int(features, "features")
        return cls(torch.arange(features - 1, -1, -1))

    @classmethod
    def random(cls, features: int, seed: int = 0) -> Permutation:
        """A uniformly random permutation drawn from ``seed``."""
        check_positive_int(features, "features")
        return cls(torch.randperm(features, generator=torch.Generator().manual_seed(seed)))

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() < 2 or x.shape[1] != len(self.permutation):
            raise InputError(
                f"x must have {len(self.permutation)} features in dimension 1, got shape {tuple(x.shape)}"
            )

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x)
        return x[:, self.permutation], x.new_zeros(x.shape[0])

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z)
        return z[:, self.inverse_permutation], z.new_zeros(z.shape[0])
