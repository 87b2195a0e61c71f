"""Rank-normalised split R-hat, bulk and tail effective sample sizes, and Monte Carlo standard errors.

For draws x[c, n] of one scalar quantity from C chains of N draws (Vehtari, Gelman, Simpson, Carpenter
& Buerkner 2021, arXiv:1903.08008):

- **split**: each chain is cut into its first and last floor(N/2) draws, giving 2C half-chains;
- **rank normalisation**: every draw is replaced by z = Phi^{-1}((r - 3/8) / (S + 1/4)), with r its
  rank among all S draws;
- **R-hat** = sqrt(((n - 1)/n W + B/n) / W) with W the mean within-chain variance and B/n the variance of
  the chain means; the rank-normalised R-hat is the larger of that of z and that of the rank-normalised
  folded draws |x - median(x)|;
- **ESS** = C N / tau with tau = -1 + 2 sum_t rho_t, the autocorrelations rho_t estimated from all chains
  together and truncated by Geyer's initial monotone sequence; bulk ESS is that of the split z, tail ESS
  the smaller of those of the indicators x <= q_0.05 and x <= q_0.95;
- **MCSE** of the mean = sd / sqrt(ESS_mean); of the sd, by the delta method on the squared deviations.

The numbers agree with ArviZ's ``ess``, ``rhat`` and ``mcse`` (which bayesdl's inference layer does not
import: ArviZ is reached only from ``diagnostics``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ...errors import InputError


def _as_draws(x) -> np.ndarray:
    """Draws [chain, draw, ...] as a float64 numpy array, flattening the trailing dimensions to one axis."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 2:
        raise InputError(f"draws must have shape [chain, draw, ...], got {a.shape}")
    return a.reshape(a.shape[0], a.shape[1], -1)


def _split(a: np.ndarray) -> np.ndarray:
    half = a.shape[1] // 2
    return np.concatenate([a[:, :half], a[:, a.shape[1] - half :]], axis=0)


def _z_scale(a: np.ndarray) -> np.ndarray:
    ranks = stats.rankdata(a, method="average", axis=None).reshape(a.shape)
    return stats.norm.ppf((ranks - 0.375) / (a.size + 0.25))


def _rhat(a: np.ndarray) -> float:
    n = a.shape[1]
    between = n * np.var(a.mean(axis=1), ddof=1)
    within = np.mean(np.var(a, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def _autocov(a: np.ndarray) -> np.ndarray:
    """Biased autocovariances of each chain (rows of a [C, N]) at every lag, by FFT."""
    n = a.shape[1]
    centred = a - a.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(f * np.conjugate(f), n=size, axis=1)[:, :n] / n


def _ess(a: np.ndarray) -> float:
    """ESS of one quantity from chains a [C, N] (Geyer's initial monotone sequence, as Stan and ArviZ)."""
    if not np.all(np.isfinite(a)):
        return float("nan")
    if np.max(a) - np.min(a) < np.finfo(float).resolution:
        return float(a.size)
    chains, n = a.shape
    acov = _autocov(a)
    mean_var = np.mean(acov[:, 0]) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus += np.var(a.mean(axis=1), ddof=1)
    rho = np.zeros(n)
    rho[0] = even = 1.0
    rho[1] = odd = 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    t = 1
    while t < n - 3 and even + odd > 0.0:  # initial positive sequence of pair sums
        even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:  # initial monotone sequence
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1 : max_t + 2])
    tau = max(tau, 1.0 / np.log10(a.size))
    return float(a.size / tau)


@dataclass(frozen=True)
class ConvergenceSummary:
    """Per-coordinate convergence diagnostics of draws [chain, draw, K], each an array [K].

    Attributes:
        mean, sd: the posterior mean and standard deviation (all chains pooled, sd with ddof=1).
        mcse_mean, mcse_sd: their Monte Carlo standard errors.
        ess_bulk, ess_tail: rank-normalised bulk ESS and tail ESS (5% and 95% quantiles).
        r_hat: the rank-normalised split R-hat (NaN for a single chain).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> s = convergence_summary(rng.normal(size=(4, 500, 2)))
        >>> bool((s.r_hat < 1.01).all()), bool((s.ess_bulk > 1000).all())
        (True, True)
    """

    mean: np.ndarray
    sd: np.ndarray
    mcse_mean: np.ndarray
    mcse_sd: np.ndarray
    ess_bulk: np.ndarray
    ess_tail: np.ndarray
    r_hat: np.ndarray


def rank_normalized_rhat(draws) -> np.ndarray:
    """Rank-normalised split R-hat of each coordinate of draws [chain, draw, ...].

    Arguments:
        draws: a tensor or array [chain, draw, ...] (at least 2 chains and 4 draws for a finite value).

    Returns:
        R-hat per flattened trailing coordinate, [K] (NaN when there are fewer than 2 chains).

    Example:
        >>> x = np.stack([np.zeros(100), np.ones(100)])[:, :, None] + np.random.default_rng(0).normal(size=(2, 100, 1))
        >>> float(rank_normalized_rhat(x)[0]) > 1.1
        True

    References:
        Vehtari et al. (2021), Rank-normalization, folding, and localization, arXiv:1903.08008.
    """
    a = _as_draws(draws)
    if a.shape[0] < 2 or a.shape[1] < 4:
        return np.full(a.shape[2], np.nan)
    out = np.empty(a.shape[2])
    for k in range(a.shape[2]):
        s = _split(a[:, :, k])
        out[k] = max(_rhat(_z_scale(s)), _rhat(_z_scale(np.abs(s - np.median(s)))))
    return out


def bulk_ess(draws) -> np.ndarray:
    """Rank-normalised bulk effective sample size of each coordinate of draws [chain, draw, ...].

    Arguments:
        draws: a tensor or array [chain, draw, ...].

    Returns:
        Bulk ESS per flattened trailing coordinate, [K].

    Example:
        >>> float(bulk_ess(np.random.default_rng(0).normal(size=(4, 250)))[0]) > 800
        True

    References:
        Vehtari et al. (2021), arXiv:1903.08008; Geyer (1992), Practical Markov chain Monte Carlo, Stat. Sci. 7(4).
    """
    a = _as_draws(draws)
    return np.array([_ess(_z_scale(_split(a[:, :, k]))) for k in range(a.shape[2])])


def tail_ess(draws) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the indicators x <= q_0.05 and x <= q_0.95.

    Arguments:
        draws: a tensor or array [chain, draw, ...].

    Returns:
        Tail ESS per flattened trailing coordinate, [K].

    Example:
        >>> float(tail_ess(np.random.default_rng(0).normal(size=(4, 250)))[0]) > 500
        True

    References:
        Vehtari et al. (2021), arXiv:1903.08008.
    """
    a = _as_draws(draws)
    out = np.empty(a.shape[2])
    for k in range(a.shape[2]):
        x = a[:, :, k]
        out[k] = min(_ess(_split((x <= np.quantile(x, q)).astype(float))) for q in (0.05, 0.95))
    return out


def convergence_summary(draws) -> ConvergenceSummary:
    """Mean, sd, their MCSEs, bulk and tail ESS and rank-normalised R-hat of each coordinate of draws [chain, draw, ...].

    Arguments:
        draws: a tensor or array [chain, draw, ...].

    Returns:
        A :class:`ConvergenceSummary` with arrays [K] over the flattened trailing coordinates.

    Example:
        >>> s = convergence_summary(np.random.default_rng(1).normal(size=(4, 400)))
        >>> abs(float(s.mean[0])) < 4 * float(s.mcse_mean[0])
        True

    References:
        Vehtari et al. (2021), arXiv:1903.08008 (MCSE of the mean from the split ESS; of the sd by the delta method).
    """
    a = _as_draws(draws)
    k = a.shape[2]
    mean, sd = np.empty(k), np.empty(k)
    mcse_mean, mcse_sd = np.empty(k), np.empty(k)
    for i in range(k):
        x = a[:, :, i]
        mean[i], sd[i] = x.mean(), x.std(ddof=1)
        mcse_mean[i] = sd[i] / np.sqrt(_ess(_split(x)))
        sq = (x - x.mean()) ** 2
        ev = sq.mean()
        mcse_sd[i] = np.sqrt(((sq**2).mean() - ev**2) / _ess(_split(sq)) / ev / 4)
    return ConvergenceSummary(
        mean=mean,
        sd=sd,
        mcse_mean=mcse_mean,
        mcse_sd=mcse_sd,
        ess_bulk=bulk_ess(a),
        ess_tail=tail_ess(a),
        r_hat=rank_normalized_rhat(a),
    )
