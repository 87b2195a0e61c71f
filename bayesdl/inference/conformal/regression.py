"""Split conformal regression intervals: absolute (optionally scaled) residuals, and conformalised quantiles."""

from __future__ import annotations

import torch

from ...errors import InputError
from ...validation import check_tensor
from .quantile import check_alpha, conformal_quantile


class SplitConformalRegressor:
    """Intervals mu(x) +/- q s(x) from the conformal quantile of the scaled residuals |y - mu(x)| / s(x).

    With s = 1 these are the split-conformal intervals of Lei et al. (2018): marginal coverage >= 1 - alpha for
    any predictor mu, whatever the data distribution, if calibration and test points are exchangeable. Passing a
    predictive standard deviation s(x) > 0 (e.g. ``RegressionPrediction.variance.sqrt()``) gives locally
    adaptive widths with the same guarantee (Lei et al. 2018, section 5.2; Papadopoulos et al. 2008).

    Arguments:
        alpha: the miscoverage level in (0, 1) (0.1 for 90% intervals).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> y = torch.randn(1000, generator=g)
        >>> cp = SplitConformalRegressor(alpha=0.1).calibrate(torch.zeros(1000), y)
        >>> low, high = cp.predict_interval(torch.zeros(5))
        >>> 1.5 < float(high[0]) < 1.8    # close to the N(0, 1) 95% point 1.645
        True

    References:
        Lei, G'Sell, Rinaldo, Tibshirani & Wasserman (2018), Distribution-Free Predictive Inference for Regression,
        arXiv:1604.04173; Papadopoulos, Gammerman & Vovk (2008), Normalized nonconformity measures for regression
        conformal prediction.
    """

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = check_alpha(alpha)
        self.quantile_: torch.Tensor | None = None

    @staticmethod
    def _scale(mean: torch.Tensor, scale: torch.Tensor | None) -> torch.Tensor:
        if scale is None:
            return torch.ones_like(mean)
        check_tensor(scale, "scale", shape=list(mean.shape))
        if float(scale.min()) <= 0:
            raise InputError("scale must be positive everywhere (a predictive standard deviation)")
        return scale

    def calibrate(
        self, mean: torch.Tensor, y: torch.Tensor, scale: torch.Tensor | None = None
    ) -> SplitConformalRegressor:
        """Compute the quantile of |y - mean| / scale on held-out data [n]; returns ``self``."""
        check_tensor(mean, "mean", ndim=1)
        check_tensor(y, "y", shape=list(mean.shape))
        scores = (y - mean).abs() / self._scale(mean, scale)
        self.quantile_ = conformal_quantile(scores, self.alpha)
        return self

    def predict_interval(
        self, mean: torch.Tensor, scale: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The lower and upper ends [N] for predictions ``mean`` (and ``scale`` if calibrated with one)."""
        if self.quantile_ is None:
            raise InputError("calibrate(mean, y) on held-out data before predict_interval")
        check_tensor(mean, "mean", ndim=1)
        half = self.quantile_.to(mean) * self._scale(mean, scale)
        return mean - half, mean + half


class ConformalizedQuantileRegressor:
    """Conformalised quantile regression: [lo(x) - q, hi(x) + q] with q the conformal quantile of
    E = max(lo(x) - y, y - hi(x)).

    The base interval [lo, hi] can come from any model: quantile regression, or mean +/- z sd of a
    heteroscedastic Gaussian model. The correction q (which may be negative, shrinking an over-wide interval)
    restores marginal coverage >= 1 - alpha while keeping the model's adaptive widths.

    Arguments:
        alpha: the miscoverage level in (0, 1).

    Example:
        >>> lo, hi = -torch.ones(200), torch.ones(200)
        >>> y = 0.5 * torch.randn(200, generator=torch.Generator().manual_seed(1))
        >>> cqr = ConformalizedQuantileRegressor(alpha=0.1).calibrate(lo, hi, y)
        >>> float(cqr.quantile_) < 0      # the base interval was too wide, so it shrinks
        True

    References:
        Romano, Patterson & Candes (2019), Conformalized Quantile Regression, arXiv:1905.03222.
    """

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = check_alpha(alpha)
        self.quantile_: torch.Tensor | None = None

    @staticmethod
    def _check(lower: torch.Tensor, upper: torch.Tensor) -> None:
        check_tensor(lower, "lower", ndim=1)
        check_tensor(upper, "upper", shape=list(lower.shape))
        if bool((upper < lower).any()):
            raise InputError("upper must be >= lower for every input")

    def calibrate(
        self, lower: torch.Tensor, upper: torch.Tensor, y: torch.Tensor
    ) -> ConformalizedQuantileRegressor:
        """Compute q from held-out base intervals and targets [n]; returns ``self``."""
        self._check(lower, upper)
        check_tensor(y, "y", shape=list(lower.shape))
        self.quantile_ = conformal_quantile(torch.maximum(lower - y, y - upper), self.alpha)
        return self

    def predict_interval(self, lower: torch.Tensor, upper: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The conformalised interval for base intervals [N]; a negative q never inverts it (ends meet at the middle)."""
        if self.quantile_ is None:
            raise InputError("calibrate(lower, upper, y) on held-out data before predict_interval")
        self._check(lower, upper)
        q = self.quantile_.to(lower)
        low, high = lower - q, upper + q
        middle = 0.5 * (lower + upper)
        return torch.minimum(low, middle), torch.maximum(high, middle)
