"""Test-set scores with their standard errors, for the numbers experiments declare.

The standard error of a test-set mean is the sample sd of the per-example values over sqrt(N): it measures
the noise of the finite test set (how much the figure would move on another test set of the same size), not
the randomness of training.
"""

from __future__ import annotations

import math
from typing import Any

import torch


def mean_and_se(values: torch.Tensor) -> tuple[float, float]:
    """The mean of ``values`` [N] and its standard error sd / sqrt(N) (0 for N = 1 is refused: NaN).

    Example:
        >>> mean_and_se(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        (2.5, 0.6454972243679028)
    """
    values = values.detach().double().reshape(-1).cpu()
    if len(values) < 2:
        return float(values.mean()), math.nan
    return float(values.mean()), float(values.std() / math.sqrt(len(values)))


def classification_scores(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Accuracy (%) and NLL (nats per example) of predictive probabilities [N, C], each with its standard error.

    Example:
        >>> s = classification_scores(torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]), torch.tensor([0, 1, 1, 1]))
        >>> round(s["accuracy"], 1), round(s["accuracy_se"], 1), round(s["nll"], 3)
        (75.0, 25.0, 0.4)
    """
    probs, labels = probs.detach().cpu(), labels.detach().cpu().long()
    correct = (probs.argmax(1) == labels).double() * 100.0
    nll = -probs.double().gather(1, labels.unsqueeze(1)).squeeze(1).log()
    acc, acc_se = mean_and_se(correct)
    mean_nll, nll_se = mean_and_se(nll)
    return {"accuracy": acc, "accuracy_se": acc_se, "nll": mean_nll, "nll_se": nll_se}


def gaussian_scores(mean: torch.Tensor, variance: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Gaussian predictive NLL (nats per point) with its standard error, and RMSE, of a regression predictive.

    Example:
        >>> s = gaussian_scores(torch.zeros(4), torch.ones(4), torch.tensor([0.0, 1.0, -1.0, 0.0]))
        >>> round(s["nll"], 4), round(s["rmse"], 4)
        (1.1689, 0.7071)
    """
    mean, variance, y = (t.detach().double().reshape(-1).cpu() for t in (mean, variance, y))
    per_point = 0.5 * (torch.log(2 * math.pi * variance) + (y - mean).square() / variance)
    nll, nll_se = mean_and_se(per_point)
    return {"nll": nll, "nll_se": nll_se, "rmse": float((y - mean).square().mean().sqrt())}


def report_regression(
    ctx: Any, scores: dict[str, float], method: str, group: str = "", y_unit: str = ""
) -> None:
    """Declare the usual regression scores of one method: test NLL (headline, with its standard error when the
    scores carry ``test_nll_se``), RMSE, CRPS and the 95% interval coverage (unranked: its target is 95%).

    Arguments:
        ctx: the :class:`~bayesdl.experiments.registry.RunContext`.
        scores: a dict with ``test_nll`` and optionally ``test_nll_se``, ``rmse``, ``crps``, ``coverage_95`` (a fraction).
        method: the method's label (the table row).
        group: the table (data set) it belongs to.
        y_unit: the unit of y for RMSE and CRPS ("" for standardised toy data).
    """
    ctx.report_metric(
        "test NLL",
        scores["test_nll"],
        "nats/point",
        "lower",
        method=method,
        se=scores.get("test_nll_se"),
        group=group,
    )
    if "rmse" in scores:
        ctx.report_metric("RMSE", scores["rmse"], y_unit, "lower", method=method, group=group, headline=False)
    if "crps" in scores:
        ctx.report_metric("CRPS", scores["crps"], y_unit, "lower", method=method, group=group, headline=False)
    if "coverage_95" in scores:
        ctx.report_metric(
            "95% interval coverage",
            100.0 * scores["coverage_95"],
            "%",
            "none",
            method=method,
            group=group,
            headline=False,
        )


def report_classification(
    ctx: Any,
    probs: torch.Tensor,
    labels: torch.Tensor,
    method: str,
    group: str = "",
    ece: float | None = None,
) -> dict[str, float]:
    """Declare test accuracy and NLL (headline, with standard errors) and the ECE of one method; returns the scores.

    Arguments:
        ctx: the :class:`~bayesdl.experiments.registry.RunContext`.
        probs: predictive probabilities on the test set [N, C].
        labels: the test labels [N].
        method: the method's label (the table row).
        group: the table (data set) it belongs to.
        ece: the expected calibration error (0-1) to declare, if computed.
    """
    scores = classification_scores(probs, labels)
    ctx.report_metric(
        "test accuracy",
        scores["accuracy"],
        "%",
        "higher",
        method=method,
        se=scores["accuracy_se"],
        group=group,
    )
    ctx.report_metric(
        "test NLL", scores["nll"], "nats/example", "lower", method=method, se=scores["nll_se"], group=group
    )
    if ece is not None:
        ctx.report_metric("ECE", 100.0 * ece, "%", "lower", method=method, group=group, headline=False)
    return scores
