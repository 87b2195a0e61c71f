"""Diagnostics: predictive metrics, ArviZ export, MCMC checks and diagnostic plots."""

from .arviz_export import guide_to_inference_data, posterior_to_inference_data
from .mcmc_summary import MCMCCheck, describe_mcmc
from .metrics import accuracy, nll

__all__ = ["MCMCCheck", "accuracy", "describe_mcmc", "guide_to_inference_data", "nll", "posterior_to_inference_data"]
