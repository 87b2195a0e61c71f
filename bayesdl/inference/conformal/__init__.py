"""Split conformal prediction: distribution-free prediction intervals and prediction sets.

Every method calibrates a score on held-out data exchangeable with the test data and returns intervals or sets
that contain the truth with probability at least 1 - alpha, marginally over calibration and test draws.
"""

from .classification import ConformalClassifier, set_coverage, set_sizes
from .quantile import conformal_quantile
from .regression import ConformalizedQuantileRegressor, SplitConformalRegressor

__all__ = [
    "ConformalClassifier",
    "ConformalizedQuantileRegressor",
    "SplitConformalRegressor",
    "conformal_quantile",
    "set_coverage",
    "set_sizes",
]
