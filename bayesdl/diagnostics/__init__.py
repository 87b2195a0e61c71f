"""Diagnostics: predictive metrics, ArviZ export, MCMC checks and diagnostic plots."""

from .arviz_export import (
    arviz_summary,
    compare_methods,
    guide_to_inference_data,
    posterior_to_inference_data,
    predictive_to_inference_data,
    to_inference_data,
)
from .mcmc_summary import MCMCCheck, describe_mcmc
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
from .selective import (
    RiskCoverage,
    energy_score,
    entropy_score,
    fpr_at_tpr,
    max_softmax_score,
    ood_aupr,
    risk_coverage,
)

__all__ = [
    "MCMCCheck",
    "RiskCoverage",
    "energy_score",
    "entropy_score",
    "fpr_at_tpr",
    "max_softmax_score",
    "ood_aupr",
    "risk_coverage",
    "accuracy",
    "arviz_summary",
    "brier_score",
    "compare_methods",
    "crps_gaussian",
    "describe_mcmc",
    "expected_calibration_error",
    "gaussian_nll",
    "guide_to_inference_data",
    "interval_coverage",
    "nll",
    "ood_auroc",
    "posterior_to_inference_data",
    "predictive_to_inference_data",
    "to_inference_data",
]
