"""A one-call plain-words check of an MCMC run: R-hat, effective sample sizes, divergences, tree depth, BFMI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .arviz_export import arviz_bfmi, ess_and_rhat


@dataclass
class MCMCCheck:
    """The numbers behind :func:`describe_mcmc` and the problems found (an empty list means none).

    Attributes:
        max_rhat: the largest rank-normalised split R-hat over all scalar parameters.
        min_ess_bulk: the smallest bulk effective sample size (over all chains together).
        min_ess_tail: the smallest tail effective sample size.
        divergences: the number of divergent transitions after warmup.
        num_draws: the number of draws over all chains.
        max_treedepth_hits: the number of NUTS transitions that stopped at the maximum tree depth.
        min_bfmi: the smallest energy Bayesian fraction of missing information over chains (NaN without
            energy statistics).
        problems: one plain-words sentence per problem found.
        text: the printable summary.

    Example:
        >>> check = MCMCCheck(1.2, 50.0, 40.0, 3, 400, 0, 0.9, problems=["R-hat is high"])
        >>> check.ok, check.divergences
        (False, 3)

    References:
        Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), Rank-normalization, folding, and localization:
        An improved R-hat for assessing convergence of MCMC, arXiv:1903.08008.
        Betancourt (2016), Diagnosing Suboptimal Cotangent Disintegrations in Hamiltonian Monte Carlo,
        arXiv:1604.00695.
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    num_draws: int
    max_treedepth_hits: int
    min_bfmi: float
    problems: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def ok(self) -> bool:
        """True if no diagnostic raised a flag."""
        return not self.problems


def _extreme(dataset: Any, fn: Any) -> tuple[float, str]:
    best, name = None, ""
    for var in dataset.data_vars:
        values = np.asarray(dataset[var]).ravel()
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        v = float(fn(values))
        if best is None or fn([best, v]) == v:
            best, name = v, var
    return (best if best is not None else float("nan")), name


def describe_mcmc(
    idata: Any, rhat_threshold: float = 1.01, min_ess_per_chain: float = 100.0, bfmi_threshold: float = 0.3
) -> MCMCCheck:
    """Check an ``InferenceData`` from MCMC and explain any problem in plain words.

    Flags: rank-normalised split R-hat above ``rhat_threshold`` (Vehtari et al. 2021, arXiv:1903.08008),
    bulk or tail ESS below ``min_ess_per_chain`` times the number of chains, any divergent transition,
    NUTS hitting its maximum tree depth, and an energy BFMI below ``bfmi_threshold`` (Betancourt 2016,
    arXiv:1604.00695).

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group (chain, draw, ...) and optionally
            ``sample_stats`` with ``diverging``, ``reached_max_treedepth`` and ``energy``.
        rhat_threshold: the largest acceptable R-hat (only checked with more than one chain).
        min_ess_per_chain: the smallest acceptable bulk and tail ESS per chain.
        bfmi_threshold: the smallest acceptable energy BFMI.

    Returns:
        An :class:`MCMCCheck` whose ``text`` is the summary to print.

    Example:
        >>> import torch
        >>> from bayesdl.diagnostics.arviz_export import posterior_to_inference_data
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.randn(4, 200, generator=g)})
        >>> describe_mcmc(idata).ok
        True

    References:
        Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), arXiv:1903.08008 (R-hat and ESS);
        Betancourt (2016), arXiv:1604.00695 (energy BFMI); Hoffman & Gelman (2014), The No-U-Turn Sampler,
        JMLR 15, arXiv:1111.4246 (tree depth).
    """
    ess_bulk, ess_tail, rhat = ess_and_rhat(idata)
    max_rhat, rhat_var = _extreme(rhat, max)
    min_bulk, bulk_var = _extreme(ess_bulk, min)
    min_tail, tail_var = _extreme(ess_tail, min)
    chains = int(idata.posterior.sizes["chain"])
    draws = chains * int(idata.posterior.sizes["draw"])
    stats = idata.sample_stats if "sample_stats" in idata.groups() else None
    divergences = (
        int(np.asarray(stats["diverging"]).sum()) if stats is not None and "diverging" in stats else 0
    )
    depth_hits = (
        int(np.asarray(stats["reached_max_treedepth"]).sum())
        if stats is not None and "reached_max_treedepth" in stats
        else 0
    )
    min_bfmi = float(arviz_bfmi(idata).min()) if stats is not None and "energy" in stats else float("nan")

    problems = []
    need = min_ess_per_chain * chains
    if chains > 1 and max_rhat > rhat_threshold:
        problems.append(
            f"R-hat reaches {max_rhat:.3f} (for {rhat_var}), above {rhat_threshold}: the chains disagree, "
            "so they have not converged to the same distribution; run longer or reparameterise."
        )
    if min_bulk < need:
        problems.append(
            f"bulk ESS is only {min_bulk:.0f} (for {bulk_var}); at least {need:.0f} is advisable for "
            "reliable means and R-hat."
        )
    if min_tail < need:
        problems.append(
            f"tail ESS is only {min_tail:.0f} (for {tail_var}); quantiles and intervals are unreliable."
        )
    if divergences:
        problems.append(
            f"{divergences} of {draws} transitions diverged: the sampler met curvature it cannot "
            "integrate (often a funnel); the draws may be biased. Reparameterise (e.g. non-centred) "
            "or raise target_accept."
        )
    if depth_hits:
        problems.append(
            f"{depth_hits} transitions stopped at the maximum tree depth: sampling is inefficient, "
            "not necessarily wrong; consider a reparameterisation or a larger max_tree_depth."
        )
    if np.isfinite(min_bfmi) and min_bfmi < bfmi_threshold:
        problems.append(
            f"the energy BFMI is {min_bfmi:.2f} (< {bfmi_threshold}): momentum resampling explores the "
            "energy levels poorly; heavy tails or a funnel are likely."
        )
    lines = [
        f"{chains} chains x {draws // chains} draws; max R-hat {max_rhat:.3f}; min bulk ESS {min_bulk:.0f}; "
        f"min tail ESS {min_tail:.0f}; {divergences} divergences; min BFMI {min_bfmi:.2f}."
    ]
    lines += [f"WARNING: {p}" for p in problems] or [
        "No problems found: R-hat, ESS, divergences and BFMI all look fine."
    ]
    return MCMCCheck(
        max_rhat, min_bulk, min_tail, divergences, draws, depth_hits, min_bfmi, problems, "\n".join(lines)
    )
