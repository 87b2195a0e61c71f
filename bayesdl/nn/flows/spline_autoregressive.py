"""Masked autoregressive rational-quadratic spline layer (the autoregressive NSF; Durkan et al. 2019).

Durkan, Bekasov, Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032, sec. 3.2
("RQ-NSF (AR)"): each dimension x_i goes through its own monotone rational-quadratic spline g_i
(:class:`~bayesdl.nn.flows.RationalQuadraticSpline`) whose 3K - 1 parameters come from a MADE over
the preceding dimensions, z_i = g_i(x_i; theta_i(x_<i)). In the data-to-noise direction this is one
network pass, with log|det dz/dx| = sum_i log g_i'(x_i) (triangular Jacobian), as for MAF
(Papamakarios, Pavlakou & Murray 2017, arXiv:1705.07057); sampling inverts the splines one
dimension at a time, D passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .autoregressive import _MADETransform
from .rq_spline import RationalQuadraticSpline


class RQSplineAutoregressive(_MADETransform):
    """MAF-style layer with spline elementwise maps: z_i = g(x_i; MADE(x_<i)_i).

    Arguments:
        features: D.
        hidden_sizes: MADE hidden widths.
        context_size: width of a conditioning vector fed to the MADE (0: unconditional).
        reverse_order: use the ordering D-1, ..., 0 (alternate it between stacked layers).
        bins: K, the spline's bins.
        bound: B; the splines act on [-B, B] and are the identity outside (so are data outside it).
        min_bin_width, min_bin_height, min_derivative: the floors of the spline
            (see :class:`~bayesdl.nn.flows.RationalQuadraticSpline`).

    Example:
        >>> t = RQSplineAutoregressive(3, [16], bins=4)
        >>> x = torch.randn(5, 3)
        >>> z, log_det = t(x)
        >>> back, log_det_inv = t.inverse(z)
        >>> bool(torch.allclose(back, x, atol=1e-4)), bool(torch.allclose(log_det + log_det_inv, torch.zeros(5), atol=1e-4))
        (True, True)

    References:
        Durkan, Bekasov, Murray & Papamakarios (2019), arXiv:1906.04032; Germain et al. (2015), arXiv:1502.03509.
    """

    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int],
        context_size: int = 0,
        reverse_order: bool = False,
        bins: int = 8,
        bound: float = 5.0,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_derivative: float = 1e-3,
    ) -> None:
        spline = RationalQuadraticSpline(bins, bound, min_bin_width, min_bin_height, min_derivative)
        super().__init__(features, hidden_sizes, context_size, reverse_order, num_params=spline.num_params)
        self.spline = spline

    def _spline_params(self, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        return self._net(x, context).transpose(1, 2)  # [B, P, D] -> [B, D, P]

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z, log_slope = self.spline.forward(x, self._spline_params(x, context))
        return z, log_slope.sum(1)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros_like(z)
        for _ in range(self.features):  # after pass k the first k dimensions (in order) are exact
            x, log_slope = self.spline.inverse(z, self._spline_params(x, context))
        return x, log_slope.sum(1)
