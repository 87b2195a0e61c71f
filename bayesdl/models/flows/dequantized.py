"""Uniform dequantisation of discrete data for a continuous flow, and honest bits/dim.

Integer levels k in {0..K-1}^D become u = (k + v) / K with v ~ U[0, 1)^D, fresh at every call. For a
density p on [0, 1]^D, E_v[log p((k + v) / K)] - D log K <= log P(k) (Theis, van den Oord & Bethge 2016,
arXiv:1511.01844), so the reported discrete NLL and bits/dim are upper bounds. The flow's own
preprocessing (the Logit transform) is part of the flow, so its log-det is already in log p.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...io import serializable
from ...results.bits import bits_per_dim
from ...validation import check_levels, check_positive_int, check_tensor
from .base import Flow


@serializable
class Dequantized(nn.Module):
    """A flow over [0, 1]^D trained and evaluated on uniformly dequantised integer levels.

    Arguments:
        flow: a :class:`Flow` whose data live in [0, 1] (built with logit preprocessing).
        num_levels: K, the number of discrete levels (17 for the digits, 256 for 8-bit images).

    Example:
        >>> from bayesdl.models.flows import MAF
        >>> model = Dequantized(MAF(4, 1, [8], logit_alpha=0.05), num_levels=17)
        >>> levels = torch.randint(0, 17, (3, 4))
        >>> model.bits_per_dim(levels, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3])

    References:
        Theis, van den Oord & Bethge (2016), arXiv:1511.01844; Dinh et al. (2016), arXiv:1605.08803.
    """

    def __init__(self, flow: Flow, num_levels: int = 256) -> None:
        super().__init__()
        self.flow = flow
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)

    def _check_levels(self, levels: torch.Tensor) -> None:
        check_tensor(levels, "levels", shape=[None, *self.flow.event_shape], finite=False)
        check_levels(levels, "levels", self.num_levels)

    def dequantize(self, levels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(k + v) / K with fresh uniform noise v."""
        self._check_levels(levels)
        v = torch.rand(levels.shape, generator=generator, device=levels.device)
        return (levels.float() + v) / self.num_levels

    def log_prob_dequantized(
        self, levels: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Monte Carlo estimate of E_v[log p((k + v)/K)] in nats per example (a lower bound on log P(k) + D log K)."""
        check_positive_int(num_samples, "num_samples")
        total = 0.0
        for _ in range(num_samples):
            total = total + self.flow.log_prob(self.dequantize(levels, generator))
        return total / num_samples

    def nll_discrete(
        self, levels: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Upper bound on -log P(k) in nats per example: D log K - E_v[log p((k + v)/K)]."""
        dims = math.prod(self.flow.event_shape)
        return dims * math.log(self.num_levels) - self.log_prob_dequantized(levels, num_samples, generator)

    def bits_per_dim(
        self, levels: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Bits per dimension of the discrete data (an upper bound), per example [B]."""
        log_p = self.log_prob_dequantized(levels, num_samples, generator)
        return bits_per_dim(log_p, math.prod(self.flow.event_shape), num_levels=self.num_levels)

    def loss(self, levels: torch.Tensor) -> torch.Tensor:
        """Mean negative log-density of freshly dequantised levels (nats per example, continuous)."""
        return -self.flow.log_prob(self.dequantize(levels)).mean()

    def sample_levels(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Samples of the flow quantised back to levels floor(K x), clamped into {0..K-1}."""
        x = self.flow.sample(num_samples, generator=generator)
        return torch.floor(x * self.num_levels).clamp(0, self.num_levels - 1)
