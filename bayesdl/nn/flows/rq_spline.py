"""The monotone rational-quadratic spline of neural spline flows, with identity tails.

Durkan, Bekasov, Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032, sec. 3.1 and
appendix A. On [-B, B] the map is made of K rational-quadratic pieces through the knots
(x_k, y_k), k = 0..K, with x_0 = y_0 = -B, x_K = y_K = B and derivatives delta_k > 0 at the knots.
In bin k, with width w_k, height h_k, slope s_k = h_k / w_k and xi = (x - x_k) / w_k in [0, 1],

    g(x)  = y_k + h_k [s_k xi^2 + delta_k xi (1 - xi)] / [s_k + (delta_{k+1} + delta_k - 2 s_k) xi (1 - xi)]
    g'(x) = s_k^2 [delta_{k+1} xi^2 + 2 s_k xi (1 - xi) + delta_k (1 - xi)^2]
            / [s_k + (delta_{k+1} + delta_k - 2 s_k) xi (1 - xi)]^2

(eq. 4 and 5 of the paper). g is strictly increasing and C^1. Outside [-B, B] the map is the identity,
and the boundary derivatives are fixed at delta_0 = delta_K = 1, so value and slope are continuous at
+-B and the log-determinant there is 0 ("linear tails", sec. 3.1). Inputs far outside the bound are
therefore handled, not refused: they pass through unchanged.

The inverse solves the quadratic a xi^2 + b xi + c = 0 of appendix A (eq. 6-8) with, for y in bin k,
a = h_k (s_k - delta_k) + (y - y_k) d, b = h_k delta_k - (y - y_k) d, c = -s_k (y - y_k),
d = delta_{k+1} + delta_k - 2 s_k, through the cancellation-free root xi = 2c / (-b - sqrt(b^2 - 4ac)).

The 3K - 1 unconstrained parameters per element come from a network: K widths and K heights through a
softmax floored at a minimum bin size (w_k = 2B [m + (1 - K m) softmax(raw)_k]), and K - 1 interior
derivatives through delta = m' + softplus(raw + c), with c chosen so that delta = 1 at raw = 0. All-zero
parameters therefore give K equal bins with unit derivatives: the identity map.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...errors import InputError
from ...validation import check_positive_int


def _check_fraction(value: object, name: str, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) < upper:
        raise InputError(f"{name} must be a number in [0, {upper:.6g}), got {value!r}")
    return float(value)


class RationalQuadraticSpline:
    """The elementwise RQ spline map g on [-B, B] (identity outside), given its raw parameters.

    ``forward(x, params)`` returns g(x) and log g'(x) elementwise; ``inverse(y, params)`` returns
    g^{-1}(y) and log (g^{-1})'(y). ``params`` has the shape of x plus a last axis of
    :attr:`num_params` = 3K - 1 entries: K raw widths, K raw heights, K - 1 raw interior derivatives.
    The object holds no tensors; the networks that produce ``params`` live in the transforms
    (:class:`~bayesdl.nn.flows.RQSplineCoupling`, :class:`~bayesdl.nn.flows.RQSplineAutoregressive`).

    Arguments:
        bins: K >= 1, the number of bins.
        bound: B > 0; the spline acts on [-B, B] and is the identity outside.
        min_bin_width: the smallest bin width as a fraction of 2B, in [0, 1/K).
        min_bin_height: the smallest bin height as a fraction of 2B, in [0, 1/K).
        min_derivative: the smallest interior knot derivative, in [0, 1).

    Example:
        >>> spline = RationalQuadraticSpline(bins=4, bound=3.0)
        >>> x = torch.tensor([-5.0, -1.0, 0.5, 2.9, 7.0])
        >>> params = torch.randn(5, spline.num_params, generator=torch.Generator().manual_seed(0))
        >>> y, log_d = spline.forward(x, params)
        >>> back, log_d_inv = spline.inverse(y, params)
        >>> bool(torch.allclose(back, x, atol=1e-5)), bool(torch.allclose(log_d + log_d_inv, torch.zeros(5), atol=1e-5))
        (True, True)
        >>> y[0].item(), y[4].item(), log_d[0].item()  # identity tails outside [-3, 3]
        (-5.0, 7.0, 0.0)

    References:
        Durkan, Bekasov, Murray & Papamakarios (2019), Neural Spline Flows, arXiv:1906.04032.
        Gregory & Delbourgo (1982), Piecewise rational quadratic interpolation to monotonic data,
        IMA Journal of Numerical Analysis 2(2).
    """

    def __init__(
        self,
        bins: int = 8,
        bound: float = 5.0,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_derivative: float = 1e-3,
    ) -> None:
        self.bins = check_positive_int(bins, "bins")
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not 0.0 < float(bound) < math.inf
        ):
            raise InputError(f"bound must be a finite number > 0, got {bound!r}")
        self.bound = float(bound)
        self.min_bin_width = _check_fraction(min_bin_width, "min_bin_width", 1.0 / self.bins)
        self.min_bin_height = _check_fraction(min_bin_height, "min_bin_height", 1.0 / self.bins)
        self.min_derivative = _check_fraction(min_derivative, "min_derivative", 1.0)
        self.derivative_offset = math.log(math.expm1(1.0 - self.min_derivative))  # softplus(offset) + min = 1

    @property
    def num_params(self) -> int:
        """3K - 1: the raw parameters per transformed element."""
        return 3 * self.bins - 1

    def __repr__(self) -> str:
        return f"RationalQuadraticSpline(bins={self.bins}, bound={self.bound})"

    # ------------------------------------------------------------------ knots
    def _knots(self, raw: torch.Tensor, minimum: float) -> torch.Tensor:
        """Knot positions [..., K+1] from -B to B, with bins at least ``minimum`` * 2B wide."""
        fractions = minimum + (1.0 - minimum * self.bins) * torch.softmax(raw, dim=-1)
        inner = torch.cumsum(fractions[..., :-1], dim=-1)
        # the end knots are set exactly, so that cumsum's rounding cannot move +-B
        knots = F.pad(self.bound * (2.0 * inner - 1.0), (1, 0), value=-self.bound)
        return F.pad(knots, (0, 1), value=self.bound)

    def _derivatives(self, raw: torch.Tensor) -> torch.Tensor:
        """Knot derivatives [..., K+1]: 1 at both ends (identity tails), softplus-floored inside."""
        inner = self.min_derivative + F.softplus(raw + self.derivative_offset)
        return F.pad(inner, (1, 1), value=1.0)

    def _check_params(self, v: torch.Tensor, params: torch.Tensor) -> None:
        if params.shape != (*v.shape, self.num_params):
            raise InputError(
                f"params must have shape {(*v.shape, self.num_params)} (input shape + 3 * bins - 1), "
                f"got {tuple(params.shape)}"
            )

    def _bins(self, v: torch.Tensor, params: torch.Tensor, along_y: bool) -> tuple[torch.Tensor, ...]:
        """The bin of every element of v (located among the x or the y knots) and its six quantities."""
        self._check_params(v, params)
        k = self.bins
        xs = self._knots(params[..., :k], self.min_bin_width)
        ys = self._knots(params[..., k : 2 * k], self.min_bin_height)
        ds = self._derivatives(params[..., 2 * k :])
        knots = ys if along_y else xs
        # number of interior knots <= v: the bin index in 0..K-1 (a knot belongs to the bin it starts)
        index = (v.unsqueeze(-1) >= knots[..., 1:-1]).sum(-1, keepdim=True)
        nxt = index + 1
        x0, x1 = xs.gather(-1, index), xs.gather(-1, nxt)
        y0, y1 = ys.gather(-1, index), ys.gather(-1, nxt)
        d0, d1 = ds.gather(-1, index), ds.gather(-1, nxt)
        return (
            x0.squeeze(-1),
            (x1 - x0).squeeze(-1),
            y0.squeeze(-1),
            (y1 - y0).squeeze(-1),
            d0.squeeze(-1),
            d1.squeeze(-1),
        )

    @staticmethod
    def _log_slope(xi: torch.Tensor, s: torch.Tensor, d0: torch.Tensor, d1: torch.Tensor) -> torch.Tensor:
        """log g'(x) in a bin, from xi and the bin's slope and end derivatives (eq. 5)."""
        t = xi * (1.0 - xi)
        denominator = s + (d0 + d1 - 2.0 * s) * t
        numerator = d1 * xi * xi + 2.0 * s * t + d0 * (1.0 - xi) * (1.0 - xi)
        return 2.0 * torch.log(s) + torch.log(numerator) - 2.0 * torch.log(denominator)

    # ------------------------------------------------------------------ maps
    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """y = g(x) and log g'(x), both of the shape of x."""
        inside = (x >= -self.bound) & (x <= self.bound)
        # tail elements get the spline at 0 (finite, then discarded); torch.where, unlike clamp, keeps the
        # gradient of elements exactly at +-B
        v = torch.where(inside, x, torch.zeros_like(x))
        x0, w, y0, h, d0, d1 = self._bins(v, params, along_y=False)
        s = h / w
        xi = (v - x0) / w  # in [0, 1] by the choice of bin (a clamp would zero the gradient at the knots)
        t = xi * (1.0 - xi)
        y = y0 + h * (s * xi * xi + d0 * t) / (s + (d0 + d1 - 2.0 * s) * t)
        log_slope = self._log_slope(xi, s, d0, d1)
        return torch.where(inside, y, x), torch.where(inside, log_slope, torch.zeros_like(log_slope))

    def inverse(self, y: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = g^{-1}(y) and log (g^{-1})'(y) = -log g'(x), both of the shape of y."""
        inside = (y >= -self.bound) & (y <= self.bound)
        v = torch.where(inside, y, torch.zeros_like(y))
        x0, w, y0, h, d0, d1 = self._bins(v, params, along_y=True)
        s = h / w
        dy = v - y0
        d = d0 + d1 - 2.0 * s
        a = h * (s - d0) + dy * d
        b = h * d0 - dy * d
        c = -s * dy
        discriminant = (b * b - 4.0 * a * c).clamp_min(0.0)  # >= 0 in exact arithmetic for a monotone spline
        xi = (2.0 * c) / (-b - torch.sqrt(discriminant))
        x = x0 + xi * w
        log_slope = -self._log_slope(xi, s, d0, d1)
        return torch.where(inside, x, y), torch.where(inside, log_slope, torch.zeros_like(log_slope))
