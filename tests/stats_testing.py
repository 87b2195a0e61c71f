"""Tolerances for stochastic tests that follow from an estimator's standard error.

Every bound here is ``z * standard_error`` with z chosen from a stated false-failure rate: under the
hypothesis that the code is correct, the assertion fails with probability at most ``rate`` (normal
approximation to the estimator; Bonferroni over ``tests`` simultaneous checks).
"""

from __future__ import annotations

import arviz as az
import numpy as np
from scipy import stats

FALSE_FAILURE_RATE = 1e-5
"""Default per-test false-failure rate of every statistical assertion in the suite."""


def z_bound(rate: float = FALSE_FAILURE_RATE, tests: int = 1, two_sided: bool = True) -> float:
    """The normal quantile z with P(|Z| > z) = rate / tests (or P(Z > z) one-sided).

    Example: z_bound(1e-5) = 4.42; z_bound(1e-5, tests=10) = 4.89.
    """
    tail = rate / tests / (2.0 if two_sided else 1.0)
    return float(stats.norm.isf(tail))


def ess_mean(x: np.ndarray) -> float:
    """ArviZ's effective sample size for the mean of draws [chain, draw] (autocorrelation-corrected)."""
    return float(az.ess(np.asarray(x, dtype=np.float64), method="mean"))


def mcse_mean(x: np.ndarray) -> float:
    """Monte Carlo standard error of the mean of MCMC draws [chain, draw]: sd / sqrt(ESS)."""
    x = np.asarray(x, dtype=np.float64)
    return float(x.std(ddof=1) / np.sqrt(ess_mean(x)))


def iid_mean_bound(sd: float, n: int, rate: float = FALSE_FAILURE_RATE, tests: int = 1) -> float:
    """The bound z * sd / sqrt(n) on |mean - truth| for n independent draws with standard deviation sd."""
    return z_bound(rate, tests) * sd / np.sqrt(n)
