"""Check MCMC draws against a reference posterior: means and sds within a stated multiple of their joint MCSE.

For each parameter and each of its posterior mean and sd, the difference d between bayesdl's estimate
and the reference's has Monte Carlo standard error se = sqrt(mcse_bayesdl^2 + mcse_reference^2) (the two
runs are independent). With m = 2K such quantities for K parameters, the check flags |d| / se > z with
z = Phi^{-1}(1 - alpha / (2m)): under the hypothesis that both samplers target the same posterior and the
MCSEs are right (the estimates are close to normal), the chance that any of the m quantities fails is at
most alpha (Bonferroni), 1e-4 by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import stats

from ...errors import InputError
from .convergence import convergence_summary

_INDEXED = re.compile(r"^(?P<site>[^\[]+)\[(?P<index>[0-9, ]+)\]$")


def reference_draws(samples: dict[str, torch.Tensor], parameter: str) -> torch.Tensor:
    """The draws [chain, draw] of one posteriordb-style parameter name (``"beta[2]"`` is ``beta[..., 1]``).

    Arguments:
        samples: site name -> draws [chain, draw, *site_shape].
        parameter: a scalar parameter name, ``"sigma"`` or ``"beta[2]"`` or ``"L[1,2]"`` (1-based indices).

    Returns:
        The draws of that coordinate, [chain, draw].

    Example:
        >>> reference_draws({"beta": torch.arange(6.0).reshape(1, 2, 3)}, "beta[2]").tolist()
        [[1.0, 4.0]]
    """
    match = _INDEXED.match(parameter)
    site, index = (
        (match["site"], tuple(int(i) - 1 for i in match["index"].split(","))) if match else (parameter, ())
    )
    if site not in samples:
        raise InputError(
            f"the draws have no site {site!r} (for reference parameter {parameter!r}); "
            f"they have {sorted(samples)}"
        )
    value = samples[site]
    if value.dim() != 2 + len(index):
        raise InputError(
            f"site {site!r} has shape {tuple(value.shape[2:])} per draw; {parameter!r} needs "
            f"{len(index)} indices"
        )
    return value[(slice(None), slice(None)) + index]


@dataclass
class ReferenceComparison:
    """Agreement of MCMC draws with a reference posterior, per parameter.

    Attributes:
        rows: one dict per parameter: ``parameter``, ``mean``, ``ref_mean``, ``z_mean``, ``sd``, ``ref_sd``,
            ``z_sd`` (differences in units of the combined MCSE), ``ess_bulk``, ``ess_tail``, ``r_hat``.
        threshold: z, the largest |difference| / MCSE that passes.
        false_failure: the family-wise false-failure rate that z was set for.
        divergences: the number of divergent transitions among the draws (None if not given).
        failures: ``"<parameter> mean"`` or ``"<parameter> sd"`` for each quantity outside the threshold.

    Example:
        >>> ref = {"x": {"mean": 0.0, "sd": 1.0, "mcse_mean": 0.01, "mcse_sd": 0.01}}
        >>> draws = torch.randn(4, 1000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> result = compare_to_reference({"x": draws}, ref)
        >>> result.passed, round(result.threshold, 2)
        (True, 4.06)
    """

    rows: list[dict[str, float | str]]
    threshold: float
    false_failure: float
    divergences: int | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every mean and sd is within ``threshold`` combined MCSEs of the reference."""
        return not self.failures

    @property
    def max_r_hat(self) -> float:
        """The largest rank-normalised R-hat over the parameters."""
        return float(max(r["r_hat"] for r in self.rows))

    @property
    def min_ess_bulk(self) -> float:
        """The smallest bulk ESS over the parameters."""
        return float(min(r["ess_bulk"] for r in self.rows))

    def table(self) -> str:
        """A plain-text table of the rows (one line per parameter)."""
        lines = [
            f"{'parameter':12s} {'mean':>11s} {'ref':>11s} {'z':>6s} {'sd':>10s} {'ref':>10s} {'z':>6s} "
            f"{'ess_bulk':>8s} {'r_hat':>6s}"
        ]
        for r in self.rows:
            lines.append(
                f"{r['parameter']:12s} {r['mean']:11.4g} {r['ref_mean']:11.4g} {r['z_mean']:6.2f} "
                f"{r['sd']:10.4g} {r['ref_sd']:10.4g} {r['z_sd']:6.2f} {r['ess_bulk']:8.0f} {r['r_hat']:6.3f}"
            )
        lines.append(
            f"threshold |z| < {self.threshold:.2f} (family-wise false failure {self.false_failure:g}); "
            f"divergences: {self.divergences}"
        )
        return "\n".join(lines)


def compare_to_reference(
    samples: dict[str, torch.Tensor],
    reference: dict[str, dict[str, float]],
    false_failure: float = 1e-4,
    divergences: int | None = None,
) -> ReferenceComparison:
    """Compare the posterior mean and sd of every reference parameter with the reference's.

    Arguments:
        samples: site name -> draws [chain, draw, *site_shape] (e.g. ``Posterior.samples``).
        reference: parameter name -> ``{"mean", "sd", "mcse_mean", "mcse_sd"}`` of the reference draws.
        false_failure: the family-wise probability of a false failure (Bonferroni over 2 x parameters).
        divergences: the number of divergent transitions, to report with the result.

    Returns:
        A :class:`ReferenceComparison`; ``failures`` names each quantity outside the threshold.

    Example:
        >>> ref = {"x": {"mean": 1.0, "sd": 1.0, "mcse_mean": 0.01, "mcse_sd": 0.01}}
        >>> draws = torch.randn(4, 1000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> compare_to_reference({"x": draws}, ref).failures
        ['x mean']

    References:
        Magnusson et al. (2024), posteriordb, arXiv:2407.04967; Vehtari et al. (2021), arXiv:1903.08008 (MCSE).
    """
    if not 0.0 < false_failure < 1.0:
        raise InputError(f"false_failure must lie in (0, 1), got {false_failure}")
    if not reference:
        raise InputError("reference must name at least one parameter")
    names = list(reference)
    draws = np.stack([reference_draws(samples, n).detach().cpu().double().numpy() for n in names], axis=-1)
    s = convergence_summary(draws)
    threshold = float(stats.norm.isf(false_failure / (2 * 2 * len(names))))
    rows, failures = [], []
    for i, n in enumerate(names):
        ref = reference[n]
        z_mean = (s.mean[i] - ref["mean"]) / np.hypot(s.mcse_mean[i], ref["mcse_mean"])
        z_sd = (s.sd[i] - ref["sd"]) / np.hypot(s.mcse_sd[i], ref["mcse_sd"])
        rows.append(
            {
                "parameter": n,
                "mean": float(s.mean[i]),
                "ref_mean": ref["mean"],
                "z_mean": float(z_mean),
                "sd": float(s.sd[i]),
                "ref_sd": ref["sd"],
                "z_sd": float(z_sd),
                "ess_bulk": float(s.ess_bulk[i]),
                "ess_tail": float(s.ess_tail[i]),
                "r_hat": float(s.r_hat[i]),
            }
        )
        failures += [f"{n} {q}" for q, z in (("mean", z_mean), ("sd", z_sd)) if not abs(z) < threshold]
    return ReferenceComparison(
        rows=rows,
        threshold=threshold,
        false_failure=false_failure,
        divergences=divergences,
        failures=failures,
    )
