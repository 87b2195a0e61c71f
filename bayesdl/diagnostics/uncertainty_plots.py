"""Plots of predictive uncertainty: reliability diagrams, 1-D regression bands, in- vs out-of-distribution histograms.

Each function draws on a given matplotlib ``ax`` (or a new figure), optionally saves the figure to ``path``,
and returns the figure.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import seaborn as sns
import torch

from ..inference.predictive import RegressionPrediction
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


def reliability_diagram(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15, ax: plt.Axes | None = None,
                        title: str | None = None, path: str | os.PathLike | None = None) -> plt.Figure:
    """Accuracy against confidence in equal-width bins, with the diagonal of perfect calibration and the ECE.

    Bars are drawn for non-empty bins only; their gap to the diagonal is the calibration error of the bin.

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
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            acc = float(correct[mask].mean())
            ax.bar(b * width, acc, width=width, align="edge", color="tab:blue", edgecolor="black", alpha=0.8)
            ax.bar(b * width, float(confidence[mask].mean()) - acc, bottom=acc, width=width, align="edge",
                   color="tab:red", alpha=0.25)
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ece = expected_calibration_error(probs.detach().cpu(), labels.cpu(), n_bins)
    ax.set_title(f"{title + ': ' if title else ''}ECE = {ece:.3f}")
    _save(fig, path)
    return fig


def regression_bands(x: torch.Tensor, prediction: RegressionPrediction, x_train: torch.Tensor | None = None,
                     y_train: torch.Tensor | None = None, truth: torch.Tensor | None = None, ax: plt.Axes | None = None,
                     title: str | None = None, path: str | os.PathLike | None = None) -> plt.Figure:
    """A 1-D regression plot: predictive mean, +-2 sd bands of the aleatoric part and of the total (epistemic + aleatoric).

    Arguments:
        x: sorted test inputs [N] or [N, 1].
        prediction: the :class:`RegressionPrediction` at ``x``.
        x_train, y_train: training points to scatter (optional).
        truth: the noiseless function at ``x`` (optional).
        ax: the matplotlib Axes to draw on (a new figure if None).
        title: an optional title.
        path: a file to save the figure to (optional; the figure stays open).

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
    ax.fill_between(xs, mean - 2 * total, mean + 2 * total, color="tab:orange", alpha=0.3, label="total (epistemic + aleatoric) +-2 sd")
    ax.fill_between(xs, mean - 2 * alea, mean + 2 * alea, color="tab:blue", alpha=0.3, label="aleatoric +-2 sd")
    ax.plot(xs, mean, color="tab:blue", lw=1.5, label="predictive mean")
    if truth is not None:
        ax.plot(xs, truth.detach().cpu().reshape(-1), "k--", lw=1, label="true function")
    if x_train is not None and y_train is not None:
        ax.scatter(x_train.detach().cpu().reshape(-1), y_train.detach().cpu().reshape(-1), s=4, color="black", alpha=0.4, label="training data")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=6, loc="upper left")
    _save(fig, path)
    return fig


def uncertainty_histogram(score_in: torch.Tensor, score_out: torch.Tensor, score_name: str = "predictive entropy",
                          labels: tuple[str, str] = ("in-distribution", "out-of-distribution"), ax: plt.Axes | None = None,
                          title: str | None = None, path: str | os.PathLike | None = None) -> plt.Figure:
    """Overlaid density histograms of an uncertainty score on in-distribution and out-of-distribution inputs.

    Arguments:
        score_in: the score on in-distribution inputs [N_in].
        score_out: the score on out-of-distribution inputs [N_out].
        score_name: the x-axis label.
        labels: the legend labels of the two histograms.
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
    sns.histplot(score_in.detach().cpu().numpy(), ax=ax, stat="density", color="tab:blue", alpha=0.5, label=labels[0], bins=30)
    sns.histplot(score_out.detach().cpu().numpy(), ax=ax, stat="density", color="tab:red", alpha=0.5, label=labels[1], bins=30)
    ax.set_xlabel(score_name)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    _save(fig, path)
    return fig
