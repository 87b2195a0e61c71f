"""Diagnostics: predictive metrics, ArviZ export and plots."""

from .metrics import accuracy, nll

__all__ = ["accuracy", "nll"]
