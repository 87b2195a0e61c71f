"""Plots of predictive uncertainty: reliability diagrams, 1-D regression bands, in- vs out-of-distribution histograms.

Each function draws on a given matplotlib ``ax`` (or a new figure), optionally saves the figure to ``path``,
and returns the figure.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..errors import InputError
from ..results.predictive import RegressionPrediction
from ..validation import check_positive_int, check_tensor
from .metrics import _check_probs_labels, expected_calibration_error


def _figure(ax: plt.Axes | None, size: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def _save(fig: plt.Figure, path: str | os.PathLike | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")


def reliability_diagram(
    probs: torch.Tensor,
    labels: torch.Tensor,
    n_bins: int = 15,
    ax: plt.Axes | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> plt.Figure:
    """Accuracy against confidence in equal-width bins, with the diagonal of perfect calibration and the ECE.

    Bars are drawn for non-empty bins only; the hatched part is the gap between the bin's accuracy and its mean
    confidence (the bin's calibration error), and the number at the foot of each bar is how many examples it holds.

    Arguments:
        probs: predictive class probabilities [N, C], rows summing to 1.
        labels: integer labels [N] in {0, ..., C-1}.
        n_bins: the number of equal-width confidence bins.
        ax: the matplotlib Axes to draw on (a new figure if None).
        title: an optional title.
        path: a file to save the figure to (optional; the figure stays open).

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = reliability_diagram(torch.tensor([[0.8, 0.2], [0.3, 0.7]]), torch.tensor([0, 0]), n_bins=5)
        >>> len(fig.axes)
        1

    References:
        Guo, Pleiss, Sun & Weinberger (2017), On Calibration of Modern Neural Networks, arXiv:1706.04599 (fig. 1).
    """
    _check_probs_labels(probs, labels)
    check_positive_int(n_bins, "n_bins")
    fig, ax = _figure(ax, (4, 4))
    confidence, predicted = probs.detach().cpu().max(1)
    correct = (predicted == labels.cpu()).float()
    bins = (torch.ceil(confidence * n_bins).long() - 1).clamp(0, n_bins - 1)
    width = 1.0 / n_bins
    first = True
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            acc, conf = float(correct[mask].mean()), float(confidence[mask].mean())
            ax.bar(
                b * width,
                acc,
                width=width,
                align="edge",
                color="tab:blue",
                edgecolor="black",
                alpha=0.8,
                label="accuracy in the bin" if first else None,
            )
            # the gap, hatched and unfilled so that it reads the same above (over-confident) or inside the bar
            ax.bar(
                b * width,
                abs(conf - acc),
                bottom=min(acc, conf),
                width=width,
                align="edge",
                facecolor="none",
                hatch="////",
                edgecolor="tab:red",
                lw=1.0,
                zorder=3,
                label="gap to mean confidence" if first else None,
            )
            ax.text(
                (b + 0.5) * width,
                0.015,
                str(int(mask.sum())),
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=6,
                color="white" if acc > 0.12 else "black",
                zorder=4,
            )
            first = False
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=6, loc="upper left", title="numbers: examples per bin", title_fontsize=6)
    ece = expected_calibration_error(probs.detach().cpu(), labels.cpu(), n_bins)
    ax.set_title(f"{title + ': ' if title else ''}ECE = {ece:.3f}")
    _save(fig, path)
    return fig


def regression_bands(
    x: torch.Tensor,
    prediction: RegressionPrediction,
    x_train: torch.Tensor | None = None,
    y_train: torch.Tensor | None = None,
    truth: torch.Tensor | None = None,
    ax: plt.Axes | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    legend: bool = True,
) -> plt.Figure:
    """A 1-D regression plot: predictive mean, +-2 sd bands of the aleatoric part and of the total (epistemic + aleatoric).

    Arguments:
        x: sorted test inputs [N] or [N, 1].
        prediction: the :class:`RegressionPrediction` at ``x``.
        x_train, y_train: training points to scatter (optional).
        truth: the noiseless function at ``x`` (optional).
        ax: the matplotlib Axes to draw on (a new figure if None).
        title: an optional title.
        path: a file to save the figure to (optional; the figure stays open).
        legend: draw a legend on the axes (turn off to draw one legend for a grid of panels).

    Returns:
        The matplotlib Figure.

    Example:
        >>> x = torch.linspace(-1, 1, 20)
        >>> pred = RegressionPrediction(torch.sin(x), 0.01 * torch.ones(20), 0.04 * torch.ones(20))
        >>> len(regression_bands(x, pred).axes)
        1

    References:
        Kendall & Gal (2017), What Uncertainties Do We Need in Bayesian Deep Learning for Computer Vision?,
        arXiv:1703.04977 (the split into aleatoric and epistemic variance).
    """
    xs = check_tensor(x, "x", ndim=(1, 2)).detach().cpu().reshape(-1)
    mean = prediction.mean.detach().cpu().reshape(-1)
    alea = prediction.aleatoric.detach().cpu().reshape(-1).sqrt()
    total = prediction.variance.detach().cpu().reshape(-1).sqrt()
    fig, ax = _figure(ax, (6, 3.5))
    # the bands do not overlap, so each shows its own colour: blue out to the aleatoric +-2 sd, orange from there
    # out to the total +-2 sd (what epistemic uncertainty adds)
    ax.fill_between(
        xs,
        mean + 2 * alea,
        mean + 2 * total,
        color="tab:orange",
        alpha=0.45,
        lw=0,
        label="total +-2 sd (epistemic + aleatoric)",
    )
    ax.fill_between(xs, mean - 2 * total, mean - 2 * alea, color="tab:orange", alpha=0.45, lw=0)
    ax.fill_between(
        xs, mean - 2 * alea, mean + 2 * alea, color="tab:blue", alpha=0.3, lw=0, label="aleatoric +-2 sd"
    )
    ax.plot(xs, mean, color="navy", lw=1.5, label="predictive mean")
    if truth is not None:
        ax.plot(xs, truth.detach().cpu().reshape(-1), "k--", lw=1, label="true function")
    if x_train is not None and y_train is not None:
        ax.scatter(
            x_train.detach().cpu().reshape(-1),
            y_train.detach().cpu().reshape(-1),
            s=4,
            color="black",
            alpha=0.4,
            label="training data",
        )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize=6, loc="upper left")
    _save(fig, path)
    return fig


def uncertainty_histogram(
    score_in: torch.Tensor,
    score_out: torch.Tensor,
    score_name: str = "predictive entropy",
    labels: tuple[str, str] = ("in-distribution", "out-of-distribution"),
    ax: plt.Axes | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    bins: int = 30,
) -> plt.Figure:
    """Overlaid density histograms of an uncertainty score on in-distribution and out-of-distribution inputs.

    Both histograms use the same bin edges (over the pooled scores), so their bars line up.

    Arguments:
        score_in: the score on in-distribution inputs [N_in].
        score_out: the score on out-of-distribution inputs [N_out].
        score_name: the x-axis label.
        labels: the legend labels of the two histograms.
        bins: the number of shared bins.
        ax: the matplotlib Axes to draw on (a new figure if None).
        title: an optional title.
        path: a file to save the figure to (optional; the figure stays open).

    Returns:
        The matplotlib Figure.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> fig = uncertainty_histogram(torch.rand(50, generator=g), torch.rand(50, generator=g) + 0.5)
        >>> fig.axes[0].get_xlabel()
        'predictive entropy'
    """
    check_tensor(score_in, "score_in", ndim=1)
    check_tensor(score_out, "score_out", ndim=1)
    fig, ax = _figure(ax, (5, 3.2))
    inside, outside = score_in.detach().cpu().double().numpy(), score_out.detach().cpu().double().numpy()
    # one set of bin edges for both, so that the two histograms are comparable bar for bar
    edges = np.histogram_bin_edges(np.concatenate([inside, outside]), bins=bins)
    if edges[0] == edges[-1]:  # every score equal (a plain net's mutual information is 0): one visible bin
        edges = (
            np.array([edges[0] - 0.5, edges[0] + 0.5]) if edges[0] == 0 else edges[0] * np.array([0.9, 1.1])
        )
    ax.hist(inside, bins=edges, density=True, color="tab:blue", alpha=0.5, label=labels[0])
    ax.hist(outside, bins=edges, density=True, color="tab:red", alpha=0.5, label=labels[1])
    ax.set_xlabel(score_name)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    _save(fig, path)
    return fig


def binary_calibration(
    probs: torch.Tensor,
    labels: torch.Tensor,
    n_bins: int = 10,
    ax: plt.Axes | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> plt.Figure:
    """Calibration of binary predictions: the observed frequency of 1s against the predicted probability, per bin.

    Equal-width bins of the predicted probability P(y = 1); each non-empty bin is a point at (mean predicted
    probability, observed frequency) with a +-2 standard-error bar of the frequency, sqrt(f (1 - f) / n), and its
    count n beside it. A calibrated model lies on the diagonal within its error bars.

    Arguments:
        probs: predicted probabilities of y = 1 [N], in [0, 1].
        labels: the 0/1 outcomes [N].
        n_bins: the number of equal-width bins.
        ax: the matplotlib Axes to draw on (a new figure if None).
        title: an optional title.
        path: a file to save the figure to (optional; the figure stays open).

    Returns:
        The matplotlib Figure.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> p = torch.rand(200, generator=g)
        >>> fig = binary_calibration(p, (torch.rand(200, generator=g) < p).float())
        >>> fig.axes[0].get_xlabel()
        'predicted probability of y = 1'
    """
    p = check_tensor(probs, "probs", ndim=1).detach().cpu().double()
    y = check_tensor(labels, "labels", ndim=1).detach().cpu().double()
    if len(p) != len(y):
        raise InputError(f"probs and labels must have the same length; got {len(p)} and {len(y)}")
    if bool(((p < 0) | (p > 1)).any()) or not bool(((y == 0) | (y == 1)).all()):
        raise InputError("probs must lie in [0, 1] and labels must be 0 or 1")
    check_positive_int(n_bins, "n_bins")
    fig, ax = _figure(ax, (4, 4))
    bins = (torch.ceil(p * n_bins).long() - 1).clamp(0, n_bins - 1)
    for b in range(n_bins):
        mask = bins == b
        n = int(mask.sum())
        if n == 0:
            continue
        freq, conf = float(y[mask].mean()), float(p[mask].mean())
        se = (freq * (1 - freq) / n) ** 0.5
        ax.errorbar(
            conf,
            freq,
            yerr=2 * se,
            fmt="o",
            color="tab:blue",
            ms=4,
            capsize=2,
            label="observed frequency +-2 se" if b == int(bins.min()) else None,
        )
        ax.annotate(str(n), (conf, freq), textcoords="offset points", xytext=(5, -9), fontsize=6)
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("predicted probability of y = 1")
    ax.set_ylabel("observed frequency of y = 1")
    ax.legend(fontsize=6, loc="upper left", title="numbers: examples per bin", title_fontsize=6)
    if title:
        ax.set_title(title, fontsize=9)
    _save(fig, path)
    return fig
