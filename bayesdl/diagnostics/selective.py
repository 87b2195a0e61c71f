"""Out-of-distribution scores and detection metrics, and selective prediction (risk against coverage).

Scores follow one convention: **higher means "more likely out of distribution" (less confident)**. Detection
metrics compare the scores of in-distribution inputs with those of OOD inputs, treating OOD as the positive class
unless ``positive="in"`` is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from ..errors import InputError
from ..validation import check_probabilities, check_tensor


def max_softmax_score(probs: torch.Tensor) -> torch.Tensor:
    """The negated maximum class probability, -max_k p_k: the baseline OOD score of Hendrycks & Gimpel (2017).

    Arguments:
        probs: predictive class probabilities [N, C].

    Returns:
        Scores [N] in [-1, -1/C]; higher means less confident.

    Example:
        >>> max_softmax_score(torch.tensor([[0.9, 0.1], [0.5, 0.5]]))
        tensor([-0.9000, -0.5000])

    References:
        Hendrycks & Gimpel (2017), A Baseline for Detecting Misclassified and Out-of-Distribution Examples in
        Neural Networks, arXiv:1610.02136.
    """
    return -check_probabilities(probs).max(-1).values


def entropy_score(probs: torch.Tensor) -> torch.Tensor:
    """The predictive entropy H[p] = -sum_k p_k log p_k in nats, the total uncertainty.

    Arguments:
        probs: predictive class probabilities [N, C].

    Returns:
        Scores [N] in [0, log C].

    Example:
        >>> entropy_score(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
        tensor([0.0000, 0.6931])
    """
    p = check_probabilities(probs)
    return (p * torch.where(p > 0, -p.log(), torch.zeros_like(p))).sum(-1)


def energy_score(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """The free energy E(x) = -T log sum_k exp(f_k(x) / T) of the logits; higher energy means more likely OOD.

    Arguments:
        logits: unnormalised class scores [N, C] (for averaged predictive probabilities pass ``probs.log()``,
            whose energy is then 0 for every input and useless: use logits of a single network).
        temperature: T > 0.

    Returns:
        Scores [N].

    Example:
        >>> energy_score(torch.tensor([[0.0, 0.0]]))
        tensor([-0.6931])

    References:
        Liu, Wang, Owens & Li (2020), Energy-based Out-of-distribution Detection, arXiv:2010.03759.
    """
    check_tensor(logits, "logits", ndim=2, floating=True)
    if not temperature > 0:
        raise InputError(f"temperature must be positive, got {temperature}")
    return -temperature * torch.logsumexp(logits / temperature, dim=-1)


def _detection_arrays(
    score_in: torch.Tensor, score_out: torch.Tensor, positive: str
) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(score_in, "score_in", ndim=1)
    check_tensor(score_out, "score_out", ndim=1)
    if positive not in ("out", "in"):
        raise InputError(f"positive must be 'out' or 'in', got {positive!r}")
    scores = torch.cat([score_in, score_out]).detach().double().cpu()
    is_out = torch.cat([torch.zeros(len(score_in)), torch.ones(len(score_out))]).double()
    if positive == "in":  # in-distribution positive: rank by confidence, i.e. the negated score
        return -scores, 1.0 - is_out
    return scores, is_out


def _average_precision(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """Area under the precision-recall curve as the step sum over distinct thresholds (ties grouped)."""
    order = torch.argsort(scores, descending=True, stable=True)
    s, y = scores[order], positive[order]
    true_pos = torch.cumsum(y, 0)
    # the last index of each group of tied scores: thresholds are taken between distinct values
    last = torch.ones_like(s, dtype=torch.bool)
    last[:-1] = s[1:] != s[:-1]
    tp = true_pos[last]
    counted = (torch.arange(1, len(s) + 1, dtype=torch.float64))[last]
    precision = tp / counted
    recall = tp / y.sum()
    recall_step = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return float((precision * recall_step).sum())


def ood_aupr(
    score_in: torch.Tensor, score_out: torch.Tensor, positive: Literal["out", "in"] = "out"
) -> float:
    """Area under the precision-recall curve (average precision) for OOD detection.

    With OOD as the positive class ("AUPR-out") the score ranks inputs as they are; with ``positive="in"``
    ("AUPR-in") in-distribution inputs are the positives and are ranked by the negated score. The area is the
    step-wise sum AP = sum_n (R_n - R_{n-1}) P_n over distinct thresholds, as in scikit-learn's
    ``average_precision_score``.

    Arguments:
        score_in: scores of in-distribution inputs [N_in] (higher = more likely OOD).
        score_out: scores of OOD inputs [N_out].
        positive: which set is the positive class.

    Returns:
        The AUPR in [0, 1]; chance level is the positives' share of all inputs.

    Example:
        >>> ood_aupr(torch.tensor([0.1, 0.2]), torch.tensor([0.3, 0.4]))
        1.0

    References:
        Davis & Goadrich (2006), The relationship between Precision-Recall and ROC curves, ICML; Hendrycks &
        Gimpel (2017), arXiv:1610.02136 (AUPR-in and AUPR-out).
    """
    scores, labels = _detection_arrays(score_in, score_out, positive)
    return _average_precision(scores, labels)


def fpr_at_tpr(score_in: torch.Tensor, score_out: torch.Tensor, tpr: float = 0.95) -> float:
    """The false-positive rate on in-distribution inputs when the threshold catches ``tpr`` of the OOD inputs.

    The threshold is the largest t with P(score_out >= t) >= tpr; the FPR is P(score_in >= t). This is the
    "FPR95" of the OOD literature with OOD as positives.

    Arguments:
        score_in: scores of in-distribution inputs [N_in].
        score_out: scores of OOD inputs [N_out].
        tpr: the true-positive rate to reach, in (0, 1].

    Returns:
        The FPR in [0, 1]; lower is better.

    Example:
        >>> fpr_at_tpr(torch.tensor([0.1, 0.2, 0.5]), torch.tensor([0.3, 0.4, 0.6]), tpr=0.95)
        0.3333333333333333
    """
    check_tensor(score_in, "score_in", ndim=1)
    check_tensor(score_out, "score_out", ndim=1)
    if not 0 < tpr <= 1:
        raise InputError(f"tpr must be in (0, 1], got {tpr}")
    out_sorted = torch.sort(score_out.detach().double().cpu(), descending=True).values
    needed = int(torch.ceil(torch.tensor(tpr * len(out_sorted) - 1e-9)))
    threshold = out_sorted[max(needed, 1) - 1]
    return float((score_in.detach().double().cpu() >= threshold).double().mean())


@dataclass
class RiskCoverage:
    """A risk-coverage curve: keep the most confident fraction of inputs and measure the error among them.

    Attributes:
        coverage: the fraction of inputs kept, [M] increasing to 1 (one point per distinct confidence).
        risk: the mean loss among the kept inputs, [M].
        aurc: the area under the curve, (1/N) sum_k risk(k/N) over the N prefix sizes (lower is better).

    Example:
        >>> curve = RiskCoverage(coverage=torch.tensor([0.5, 1.0]), risk=torch.tensor([0.0, 0.5]), aurc=0.25)
        >>> curve.risk[-1].item()
        0.5
    """

    coverage: torch.Tensor
    risk: torch.Tensor
    aurc: float


def risk_coverage(uncertainty: torch.Tensor, loss: torch.Tensor) -> RiskCoverage:
    """Selective-prediction curve and its area (AURC), abstaining on the most uncertain inputs first.

    For the N inputs sorted by increasing uncertainty, the risk at coverage k/N is the mean loss of the first
    k. AURC = (1/N) sum_{k=1}^N risk(k/N). Ties in uncertainty are kept or dropped together: the curve has one
    point per distinct uncertainty value and the area gives every prefix inside a tied group the group's risk.

    Arguments:
        uncertainty: a score per input [N], higher = less confident (e.g. entropy, or ``max_softmax_score``).
        loss: the loss per input [N] (0/1 errors for classification, or squared errors).

    Returns:
        The :class:`RiskCoverage` curve and its area.

    Example:
        >>> rc = risk_coverage(torch.tensor([0.1, 0.2, 0.9]), torch.tensor([0.0, 0.0, 1.0]))
        >>> round(rc.aurc, 4), rc.risk.tolist()
        (0.1111, [0.0, 0.0, 0.3333333333333333])

    References:
        Geifman & El-Yaniv (2017), Selective Classification for Deep Neural Networks, arXiv:1705.08500; Geifman,
        Uziel & El-Yaniv (2019), Bias-Reduced Uncertainty Estimation for Deep Neural Classifiers,
        arXiv:1805.08206 (AURC).
    """
    check_tensor(uncertainty, "uncertainty", ndim=1)
    check_tensor(loss, "loss", shape=[len(uncertainty)])
    u = uncertainty.detach().double().cpu()
    l_ = loss.detach().double().cpu()
    order = torch.argsort(u, stable=True)
    u, l_ = u[order], l_[order]
    n = len(u)
    last = torch.ones(n, dtype=torch.bool)
    last[:-1] = u[1:] != u[:-1]
    kept = torch.arange(1, n + 1, dtype=torch.float64)[last]
    risk = torch.cumsum(l_, 0)[last] / kept
    # each prefix size inside a tied group takes the group's risk
    group_sizes = torch.diff(kept, prepend=torch.zeros(1, dtype=torch.float64))
    aurc = float((risk * group_sizes).sum() / n)
    return RiskCoverage(coverage=kept / n, risk=risk, aurc=aurc)
