"""Diagnostics: predictive metrics, ArviZ export and plots."""

from .metrics import (
    accuracy,
    brier_score,
    crps_gaussian,
    expected_calibration_error,
    gaussian_nll,
    interval_coverage,
    nll,
    ood_auroc,
)

__all__ = [
    "accuracy",
    "brier_score",
    "crps_gaussian",
    "expected_calibration_error",
    "gaussian_nll",
    "interval_coverage",
    "nll",
    "ood_auroc",
]
