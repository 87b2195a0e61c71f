"""Diagnostic plots of MCMC (or SVI) results through ArviZ, each returned as a figure and optionally saved.

Every helper takes an ``InferenceData`` (from :mod:`bayesdl.diagnostics.arviz_export`), draws one
ArviZ plot, and, when ``path`` is given, writes it to that file and closes the figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
from arviz.sel_utils import xarray_sel_iter

from ..errors import InputError


def _finish(axes: Any, path: str | Path | None, title: str | None = None) -> Any:
    fig = np.ravel(axes)[0].figure
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return fig


def _require(idata: Any, group: str, what: str) -> None:
    if group not in idata.groups():
        raise InputError(
            f"{what} needs the {group!r} group in the InferenceData; it has {list(idata.groups())}"
        )


def plot_trace(
    idata: Any, var_names: list[str] | None = None, kind: str = "rank_bars", path: str | Path | None = None
) -> Any:
    """Trace plot with rank bars (or ``kind="trace"``): per-chain marginal densities and per-chain rank histograms.

    Well-mixed chains have flat, overlapping rank histograms (Vehtari et al. 2021, arXiv:1903.08008).

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group.
        var_names: the variables to plot (all if None).
        kind: "rank_bars", "rank_vlines" or "trace".
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import torch
        >>> from bayesdl.diagnostics.arviz_export import posterior_to_inference_data
        >>> g = torch.Generator().manual_seed(0)
        >>> fig = plot_trace(posterior_to_inference_data({"mu": torch.randn(2, 50, generator=g)}))
        >>> type(fig).__name__
        'Figure'

    References:
        Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), arXiv:1903.08008.
    """
    axes = az.plot_trace(idata, var_names=var_names, kind=kind, compact=True)
    return _finish(axes, path)


def plot_forest(idata: Any, var_names: list[str] | None = None, path: str | Path | None = None) -> Any:
    """Forest plot: 94% HDI and interquartile range of each parameter per chain, with ESS and R-hat columns.

    R-hat is over all chains (values above 1.01, the dashed line, in red; Vehtari et al. 2021, arXiv:1903.08008).

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group.
        var_names: the variables to plot (all if None).
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import torch
        >>> from bayesdl.diagnostics.arviz_export import posterior_to_inference_data
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.randn(2, 50, generator=g)})
        >>> fig = plot_forest(idata)
        >>> len(fig.axes) >= 1
        True
        >>> plt.close(fig)
    """
    # ArviZ computes R-hat per row, and with combined=False a row is one chain, so its R-hat column comes out
    # empty (arviz-devs/arviz#2039). Draw the per-chain intervals and the ESS column with ArviZ, and add the
    # R-hat of each parameter (over all chains) as a column of our own at the parameters' tick positions.
    axes = np.ravel(az.plot_forest(idata, var_names=var_names, r_hat=False, ess=True, combined=False))
    forest = axes[0]
    rhat = az.rhat(idata, var_names=var_names)
    values = [float(rhat[name].sel(sel)) for name, sel, _ in xarray_sel_iter(rhat, combined=True)]
    ticks = sorted(forest.get_yticks(), reverse=True)  # ArviZ draws the first parameter at the top
    if len(ticks) != len(values):
        raise RuntimeError(f"forest plot has {len(ticks)} parameter rows but R-hat has {len(values)} values")
    fig = forest.figure
    right = max(ax.get_position().x1 for ax in axes)
    box = forest.get_position()
    column = fig.add_axes((right + 0.02, box.y0, 0.12 * box.width + 0.05, box.height), sharey=forest)
    column.scatter(values, ticks, color=["tab:red" if v > 1.01 else "tab:blue" for v in values], zorder=3)
    column.axvline(1.01, color="grey", ls="--", lw=0.8)
    low, high = min(0.99, min(values) - 0.005), max(1.05, max(values) + 0.01)
    column.set_xlim(
        low, high + 0.06 * (high - low)
    )  # a margin, so that the largest R-hat is not cut by the frame
    column.set_title("r_hat", fontsize=axes[-1].title.get_fontsize())
    column.tick_params(
        labelleft=False, left=False, labelsize=axes[-1].xaxis.get_majorticklabels()[0].get_fontsize()
    )
    for side in ("top", "right", "left"):
        column.spines[side].set_visible(False)
    column.grid(axis="x", alpha=0.3)
    return _finish(axes, path)


def plot_energy(idata: Any, path: str | Path | None = None) -> Any:
    """Energy plot: the marginal energy distribution against the energy transitions, with BFMI per chain.

    A transition distribution much narrower than the marginal (low BFMI, below about 0.3) means the
    momentum resampling cannot explore the energy levels (Betancourt 2016, arXiv:1604.00695).

    Arguments:
        idata: an ``arviz.InferenceData`` whose ``sample_stats`` hold ``energy``; without that group an
            :class:`bayesdl.errors.InputError` is raised.
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import torch
        >>> from bayesdl.diagnostics.arviz_export import posterior_to_inference_data
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.randn(2, 50, generator=g)},
        ...                                     {"energy": torch.randn(2, 50, generator=g)})
        >>> fig = plot_energy(idata)
        >>> plt.close(fig)
        >>> try:
        ...     plot_energy(posterior_to_inference_data({"mu": torch.zeros(2, 5)}))
        ... except InputError as err:
        ...     print(str(err)[:46])
        the energy plot needs the 'sample_stats' group

    References:
        Betancourt (2016), Diagnosing Suboptimal Cotangent Disintegrations in Hamiltonian Monte Carlo,
        arXiv:1604.00695.
    """
    _require(idata, "sample_stats", "the energy plot")
    axes = az.plot_energy(idata)
    return _finish(axes, path)


def plot_pair_divergences(
    idata: Any, var_names: list[str] | None = None, path: str | Path | None = None
) -> Any:
    """Pair plot of the draws, with divergent transitions marked: divergences cluster where geometry is bad.

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group (and ``sample_stats.diverging`` to mark
            divergences).
        var_names: the variables to plot (all if None); at least two scalar components are needed.
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    References:
        Betancourt (2017), A Conceptual Introduction to Hamiltonian Monte Carlo, arXiv:1701.02434 (sec. 6.2).
    """
    axes = az.plot_pair(
        idata, var_names=var_names, divergences="sample_stats" in idata.groups(), kind="scatter"
    )
    return _finish(axes, path)


def plot_ppc(
    idata: Any, var_names: list[str] | None = None, num_pp_samples: int = 100, path: str | Path | None = None
) -> Any:
    """Posterior predictive check: the observed data's distribution against replicated data sets.

    Arguments:
        idata: an ``arviz.InferenceData`` with ``posterior_predictive`` and ``observed_data`` groups.
        var_names: the observed variables to plot (all if None).
        num_pp_samples: the number of replicated data sets drawn (capped at the number available).
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    References:
        Gelman, Meng & Stern (1996), Posterior predictive assessment of model fitness via realized
        discrepancies, Statistica Sinica 6(4).
    """
    _require(idata, "posterior_predictive", "the posterior predictive check")
    available = int(idata.posterior_predictive.sizes["chain"] * idata.posterior_predictive.sizes["draw"])
    axes = az.plot_ppc(
        idata, var_names=var_names, num_pp_samples=min(num_pp_samples, available), random_seed=0
    )
    return _finish(axes, path)


def plot_loo_pit(idata: Any, y: str, path: str | Path | None = None) -> Any:
    """LOO-PIT: leave-one-out probability integral transforms of the observations, uniform when calibrated.

    Needs posterior_predictive and log_likelihood for the observed site ``y`` (Gabry et al. 2019, arXiv:1709.01449).

    Arguments:
        idata: an ``arviz.InferenceData`` with ``posterior_predictive``, ``log_likelihood`` and
            ``observed_data`` groups.
        y: the name of the observed site.
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    References:
        Gabry, Simpson, Vehtari, Betancourt & Gelman (2019), Visualization in Bayesian workflow, arXiv:1709.01449.
    """
    _require(idata, "posterior_predictive", "LOO-PIT")
    _require(idata, "log_likelihood", "LOO-PIT")
    axes = az.plot_loo_pit(idata, y=y)
    return _finish(axes, path)


def plot_separation(idata: Any, y: str, path: str | Path | None = None) -> Any:
    """Separation plot of a binary outcome: observations sorted by their posterior predictive probability, events marked.

    The right check for 0/1 data, where a density PPC or LOO-PIT is coarse: a well-separating model puts the
    events (dark bars) at the right, and the line (the sorted probabilities) rises where they begin; the
    triangle marks the expected number of events (Greenhill, Ward & Sacks 2011).

    Arguments:
        idata: an ``arviz.InferenceData`` with ``posterior_predictive`` and ``observed_data`` groups for ``y``.
        y: the name of the binary observed site.
        path: a file to save the figure to (the figure is then closed); None keeps it open.

    Returns:
        The matplotlib Figure.

    References:
        Greenhill, Ward & Sacks (2011), The separation plot: a new visual method for evaluating the fit of binary
        models, American Journal of Political Science 55(4).
    """
    _require(idata, "posterior_predictive", "the separation plot")
    _require(idata, "observed_data", "the separation plot")
    ax = az.plot_separation(
        idata, y=y, y_hat=y, y_hat_line=True, expected_events=True, legend=False, figsize=(8, 1.6)
    )
    ax.set_title(f"separation plot of {y} (sorted by posterior predictive probability)", fontsize=9)
    return _finish(ax, path)
