"""Predictive metrics: NLL, accuracy, calibration (ECE, Brier), OOD AUROC, and Gaussian regression scores (NLL, coverage, CRPS)."""

from __future__ import annotations

import math

import torch

from ..errors import InputError
from ..validation import check_positive_int, check_tensor


def _check_probs_labels(probs: torch.Tensor, labels: torch.Tensor) -> None:
    check_tensor(probs, "probs", ndim=2)
    check_tensor(labels, "labels", shape=[probs.shape[0]])
    if labels.is_floating_point() or int(labels.min()) < 0 or int(labels.max()) >= probs.shape[1]:
        raise InputError(f"labels must be integers in [0, {probs.shape[1] - 1}]")
    if float(probs.min()) < 0 or not torch.allclose(probs.sum(-1), torch.ones_like(probs[:, 0]), atol=1e-4):
        raise InputError("probs must be non-negative and sum to 1 over the last dimension")


def nll(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean negative log-likelihood -1/N sum_i log p(y_i | x_i) in nats, from predictive probabilities [N, C].

    A zero probability on a true label gives ``inf``; nothing is clipped.

    Arguments:
        probs: predictive class probabilities [N, C], non-negative, each row summing to 1 (to 1e-4).
        labels: integer class labels [N] in {0, ..., C-1}.

    Returns:
        The mean NLL in nats per example (a Python float, >= 0).

    Example:
        >>> round(nll(torch.tensor([[0.5, 0.5], [0.9, 0.1]]), torch.tensor([0, 0])), 4)
        0.3993

    References:
        Gneiting & Raftery (2007), Strictly proper scoring rules, prediction, and estimation, JASA 102(477)
        (the logarithmic score).
    """
    _check_probs_labels(probs, labels)
    picked = probs.gather(1, labels.unsqueeze(1)).squeeze(1)
    return float(-picked.log().mean())


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of examples whose most probable class is the label.

    Arguments:
        probs: predictive class probabilities [N, C], non-negative, each row summing to 1 (to 1e-4).
        labels: integer class labels [N] in {0, ..., C-1}.

    Returns:
        The accuracy in [0, 1] (a Python float). Ties go to the lowest class index, as in ``argmax``.

    Example:
        >>> accuracy(torch.tensor([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]]), torch.tensor([0, 1, 1, 1]))
        0.75
    """
    _check_probs_labels(probs, labels)
    return float((probs.argmax(1) == labels).float().mean())


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> float:
    """Expected calibration error with ``n_bins`` equal-width confidence bins on [0, 1].

    With confidence c_i = max_k p_ik and bins I_b = ((b-1)/M, b/M] (the first bin also holds 0),
    ECE = sum_b |B_b| / N * |acc(B_b) - conf(B_b)| (Naeini, Cooper & Hauskrecht 2015; Guo et al. 2017,
    arXiv:1706.04599, eq. 3). Empty bins contribute nothing.

    Arguments:
        probs: predictive class probabilities [N, C], non-negative, each row summing to 1 (to 1e-4).
        labels: integer class labels [N] in {0, ..., C-1}.
        n_bins: the number of equal-width confidence bins M (>= 1).

    Returns:
        The ECE in [0, 1] (a Python float); 0 means confidence matches accuracy in every bin.

    Example:
        >>> probs = torch.tensor([[0.9, 0.1], [0.6, 0.4]])
        >>> round(expected_calibration_error(probs, torch.tensor([0, 1]), n_bins=10), 4)
        0.35

    References:
        Naeini, Cooper & Hauskrecht (2015), Obtaining Well Calibrated Probabilities Using Bayesian Binning, AAAI.
        Guo, Pleiss, Sun & Weinberger (2017), On Calibration of Modern Neural Networks, arXiv:1706.04599.
    """
    _check_probs_labels(probs, labels)
    check_positive_int(n_bins, "n_bins")
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).to(probs.dtype)
    bins = (torch.ceil(confidence * n_bins).long() - 1).clamp(0, n_bins - 1)
    count = torch.zeros(n_bins, dtype=probs.dtype, device=probs.device).index_add_(
        0, bins, torch.ones_like(confidence)
    )
    conf_sum = torch.zeros_like(count).index_add_(0, bins, confidence)
    acc_sum = torch.zeros_like(count).index_add_(0, bins, correct)
    return float((acc_sum - conf_sum).abs().sum() / len(labels))


def brier_score(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """The multi-class Brier score 1/N sum_i sum_k (p_ik - [y_i = k])^2 (Brier 1950); 0 is perfect, 2 the worst.

    Arguments:
        probs: predictive class probabilities [N, C], non-negative, each row summing to 1 (to 1e-4).
        labels: integer class labels [N] in {0, ..., C-1}.

    Returns:
        The mean Brier score in [0, 2] (a Python float).

    Example:
        >>> brier_score(torch.tensor([[1.0, 0.0], [0.5, 0.5]]), torch.tensor([0, 0]))
        0.25

    References:
        Brier (1950), Verification of forecasts expressed in terms of probability, Monthly Weather Review 78(1).
    """
    _check_probs_labels(probs, labels)
    onehot = torch.nn.functional.one_hot(labels, probs.shape[1]).to(probs.dtype)
    return float((probs - onehot).square().sum(1).mean())


def ood_auroc(score_in: torch.Tensor, score_out: torch.Tensor) -> float:
    """Area under the ROC curve for telling out-of-distribution inputs from in-distribution ones.

    A higher score should mean "more likely out of distribution" (e.g. predictive entropy or mutual
    information). The AUROC equals P(score_out > score_in) + 0.5 P(tie) (the Mann-Whitney statistic), computed
    exactly from ranks with ties averaged. 0.5 is chance, 1 is perfect separation.

    Arguments:
        score_in: scores of in-distribution inputs [N_in] (finite, non-empty).
        score_out: scores of out-of-distribution inputs [N_out] (finite, non-empty).

    Returns:
        The AUROC in [0, 1] (a Python float).

    Example:
        >>> ood_auroc(torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.25, 0.9]))
        0.8333333333333334

    References:
        Mann & Whitney (1947), On a test of whether one of two random variables is stochastically larger than
        the other, Annals of Mathematical Statistics 18(1); Hendrycks & Gimpel (2017), A Baseline for Detecting
        Misclassified and Out-of-Distribution Examples in Neural Networks, arXiv:1610.02136.
    """
    check_tensor(score_in, "score_in", ndim=1)
    check_tensor(score_out, "score_out", ndim=1)
    from scipy.stats import rankdata

    scores = torch.cat([score_in, score_out]).detach().double().cpu().numpy()
    ranks = rankdata(scores)
    n_in, n_out = len(score_in), len(score_out)
    rank_sum_out = float(ranks[n_in:].sum())
    return (rank_sum_out - n_out * (n_out + 1) / 2.0) / (n_in * n_out)


def _check_regression(mean: torch.Tensor, spread: torch.Tensor, y: torch.Tensor, spread_name: str) -> None:
    check_tensor(mean, "mean", ndim=1)
    check_tensor(spread, spread_name, shape=list(mean.shape))
    check_tensor(y, "y", shape=list(mean.shape))
    if float(spread.min()) <= 0:
        raise InputError(f"{spread_name} must be positive")


def gaussian_nll(mean: torch.Tensor, variance: torch.Tensor, y: torch.Tensor) -> float:
    """Mean negative log-likelihood -1/N sum_i log N(y_i | mean_i, variance_i) in nats.

    Arguments:
        mean: predictive means [N].
        variance: predictive variances (in squared units of y) [N], strictly positive.
        y: observed targets [N].

    Returns:
        The mean Gaussian NLL in nats per example (a Python float).

    Example:
        >>> round(gaussian_nll(torch.zeros(2), torch.ones(2), torch.zeros(2)), 4)
        0.9189

    References:
        Lakshminarayanan, Pritzel & Blundell (2017), Simple and Scalable Predictive Uncertainty Estimation
        using Deep Ensembles, arXiv:1612.01474 (NLL as a score for regression uncertainty).
    """
    _check_regression(mean, variance, y, "variance")
    return float(0.5 * (torch.log(2 * math.pi * variance) + (y - mean).square() / variance).mean())


def interval_coverage(lower: torch.Tensor, upper: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of targets inside their predictive interval, lower_i <= y_i <= upper_i.

    For calibrated central 90% intervals the coverage should be close to 0.9.

    Arguments:
        lower: lower interval ends [N].
        upper: upper interval ends [N], each >= its lower end.
        y: observed targets [N].

    Returns:
        The empirical coverage in [0, 1] (a Python float).

    Example:
        >>> interval_coverage(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0]), torch.tensor([0.5, 2.0]))
        0.5
    """
    check_tensor(lower, "lower", ndim=1)
    check_tensor(upper, "upper", shape=list(lower.shape))
    check_tensor(y, "y", shape=list(lower.shape))
    if bool((upper < lower).any()):
        raise InputError("upper must be >= lower for every interval")
    return float(((y >= lower) & (y <= upper)).to(torch.float32).mean())


def crps_gaussian(mean: torch.Tensor, std: torch.Tensor, y: torch.Tensor) -> float:
    """Mean continuous ranked probability score of Gaussian predictions N(mean_i, std_i^2), in the units of y.

    Closed form (Gneiting & Raftery 2007, eq. 21 with the sign for a loss): with z = (y - mu) / sigma,
    CRPS = sigma [z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)]. Lower is better; it equals |y - mu| as sigma -> 0.

    Arguments:
        mean: predictive means [N].
        std: predictive standard deviations (in the units of y) [N], strictly positive.
        y: observed targets [N].

    Returns:
        The mean CRPS in the units of y (a Python float, >= 0).

    Example:
        >>> round(crps_gaussian(torch.zeros(1), torch.ones(1), torch.zeros(1)), 4)
        0.2337

    References:
        Gneiting & Raftery (2007), Strictly proper scoring rules, prediction, and estimation, JASA 102(477).
    """
    _check_regression(mean, std, y, "std")
    z = (y - mean) / std
    normal = torch.distributions.Normal(torch.zeros_like(z), torch.ones_like(z))
    crps = std * (z * (2 * normal.cdf(z) - 1) + 2 * normal.log_prob(z).exp() - 1 / math.sqrt(math.pi))
    return float(crps.mean())
