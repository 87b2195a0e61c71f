"""Affine autoregressive transforms on MADE: MAF (fast density) and IAF (fast sampling).

Both use the shared :class:`bayesdl.nn.made.MADENet`, whose output [B, 2, D] holds a shift and a raw
log-scale for each dimension, each depending only on earlier dimensions (in the net's ordering) and on
an optional context.

* MAF (Papamakarios, Pavlakou & Murray 2017, arXiv:1705.07057, eq. 2-4): in the data-to-noise
  direction z_i = s_i(x_<i) x_i + b_i(x_<i), one network pass; log|det dz/dx| = sum log s.
  Sampling x_i = (z_i - b_i) / s_i needs D passes.
* IAF (Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling 2016, arXiv:1606.04934, eq. 10-15):
  in the noise-to-sample direction x = sigma(s(z)) * z + (1 - sigma(s(z))) * m(z), one pass, with
  log|det dx/dz| = sum log sigma. Evaluating the density of an arbitrary x needs D passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ...errors import InputError
from ..made import MADENet
from .base import Transform


class _MADETransform(Transform):
    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int],
        context_size: int = 0,
        reverse_order: bool = False,
        num_params: int = 2,
    ) -> None:
        super().__init__()
        ordering = (
            torch.arange(features - 1, -1, -1, device="cpu")
            if reverse_order
            else torch.arange(features, device="cpu")
        )
        self.features = features
        self.net = MADENet(
            features, list(hidden_sizes), num_params=num_params, context_size=context_size, ordering=ordering
        )

    def _net(self, h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        """The MADE output [B, P, D] for an input [B, D]."""
        if h.dim() != 2 or h.shape[1] != self.features:
            raise InputError(f"x must have shape [B, {self.features}], got {tuple(h.shape)}")
        return self.net(h, context)

    def _params(self, h: torch.Tensor, context: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        out = self._net(h, context)
        return out[:, 0], out[:, 1]


class MaskedAffineAutoregressive(_MADETransform):
    """MAF layer: z = s(x) * x + b(x) with (b, raw) from MADE and s = softplus(raw + c) + min_scale.

    This is the affine map of Papamakarios et al. (x_i = u_i exp(alpha_i) + mu_i) written in the
    data-to-noise direction, with scale s_i = exp(-alpha_i) and shift b_i = -mu_i s_i; the density
    takes one MADE pass. The constant c makes s = 1 at raw = 0. The softplus keeps s above
    ``min_scale`` (the inverse amplifies by at most 1 / min_scale per layer) and is asymmetric: for
    s < 1, log s is close to raw + c (linear in raw), while for s > 1 s itself is close to raw + c,
    so the gain in log-density, log s, grows only like log(raw). This slows the over-fitting of large
    MAFs on small data sets compared with a symmetric bound on log s (numbers in
    benchmarks/bench_flows.py).

    Arguments:
        features: D.
        hidden_sizes: MADE hidden widths.
        context_size: width of a conditioning vector (0: unconditional).
        reverse_order: use the ordering D-1, ..., 0 (alternate it between stacked layers).
        min_scale: the lower bound of s, in (0, 1).

    Example:
        >>> t = MaskedAffineAutoregressive(3, [16])
        >>> x = torch.randn(5, 3)
        >>> bool(torch.allclose(t.inverse(t(x)[0])[0], x, atol=1e-5))
        True

    References:
        Papamakarios, Pavlakou & Murray (2017), arXiv:1705.07057; Germain et al. (2015), arXiv:1502.03509.
    """

    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int],
        context_size: int = 0,
        reverse_order: bool = False,
        min_scale: float = 1e-3,
    ) -> None:
        super().__init__(features, hidden_sizes, context_size, reverse_order)
        if not 0.0 < min_scale < 1.0:
            raise InputError(f"min_scale must lie in (0, 1), got {min_scale}")
        self.min_scale = float(min_scale)
        self.raw_offset = math.log(math.expm1(1.0 - self.min_scale))  # softplus(raw_offset) + min_scale = 1

    def _scale_shift(
        self, x: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shift, raw = self._params(x, context)
        return F.softplus(raw + self.raw_offset) + self.min_scale, shift

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        scale, shift = self._scale_shift(x, context)
        return x * scale + shift, torch.log(scale).sum(1)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros_like(z)
        for _ in range(self.features):  # after pass k the first k dimensions (in order) are exact
            scale, shift = self._scale_shift(x, context)
            x = (z - shift) / scale
        return x, -torch.log(scale).sum(1)


class InverseAutoregressive(_MADETransform):
    """IAF layer: sampling x = sigma * z + (1 - sigma) * m with (m, s) = MADE(z), sigma = sigmoid(s + bias).

    ``inverse`` (noise to sample) is one pass; ``forward`` (density of a given x) takes D passes.

    Arguments:
        features: D.
        hidden_sizes: MADE hidden widths.
        context_size: width of a conditioning vector, e.g. the encoder's h in a VAE posterior.
        reverse_order: use the ordering D-1, ..., 0.
        gate_bias: added to s before the sigmoid, so the layer starts close to the identity
            (Kingma et al. 2016 suggest a positive initial bias).

    Example:
        >>> t = InverseAutoregressive(3, [16])
        >>> z = torch.randn(5, 3)
        >>> x, _ = t.inverse(z)
        >>> bool(torch.allclose(t(x)[0], z, atol=1e-5))
        True

    References:
        Kingma et al. (2016), "Improved Variational Inference with Inverse Autoregressive Flow", arXiv:1606.04934.
    """

    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int],
        context_size: int = 0,
        reverse_order: bool = False,
        gate_bias: float = 2.0,
    ) -> None:
        super().__init__(features, hidden_sizes, context_size, reverse_order)
        self.gate_bias = float(gate_bias)
        # start near the identity (sigma = sigmoid(gate_bias) for every input), as a posterior refinement should
        torch.nn.init.zeros_(self.net.output.weight)
        torch.nn.init.zeros_(self.net.output.bias)

    def _gate(
        self, z: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m, s = self._params(z, context)
        s = s + self.gate_bias
        return m, torch.sigmoid(s), F.logsigmoid(s)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        m, gate, log_gate = self._gate(z, context)
        return gate * z + (1 - gate) * m, log_gate.sum(1)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.zeros_like(x)
        for _ in range(self.features):
            m, gate, log_gate = self._gate(z, context)
            z = (x - (1 - gate) * m) / gate
        return z, -log_gate.sum(1)
