"""Split conformal prediction sets for classifiers: threshold (LAC), APS and RAPS scores."""

from __future__ import annotations

from typing import Literal

import torch

from ...errors import InputError
from ...validation import check_labels, check_probabilities, check_tensor
from .quantile import check_alpha, conformal_quantile

SetMethod = Literal["threshold", "aps", "raps"]


class ConformalClassifier:
    """Prediction sets C(x) = {y : E(x, y, u) <= q} with q the conformal quantile of calibration scores.

    With p = p(. | x) sorted in decreasing order, o(y) the 1-based rank of class y, rho(y) the probability mass
    of the classes ranked strictly above y, and u ~ U(0, 1) drawn once per input:

    - ``"threshold"`` (LAC): E = 1 - p_y, the smallest sets on average (Sadinle, Lei & Wasserman 2019);
    - ``"aps"``: E = rho(y) + u p_y, adaptive sets that grow with the input's uncertainty (Romano, Sesia &
      Candes 2020); with ``randomized=False``, u = 1 (conservative, larger sets);
    - ``"raps"``: E = rho(y) + u p_y + lam (o(y) - k_reg)^+, APS with a penalty on long tails of improbable
      classes (Angelopoulos, Bates, Malik & Jordan 2021).

    For exchangeable calibration and test data, P(y in C(x)) >= 1 - alpha for any classifier; the randomised
    scores make the coverage exact up to 1/(n + 1). The classifier's probabilities can be averaged predictive
    probabilities of any bayesdl model (``predict(model, x).probs``).

    Arguments:
        alpha: the miscoverage level in (0, 1) (0.1 for 90% sets).
        method: the score.
        randomized: draw u ~ U(0, 1) (APS/RAPS); otherwise u = 1.
        lam: the RAPS penalty weight (>= 0).
        k_reg: the RAPS rank from which the penalty applies (>= 0).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> probs = torch.softmax(torch.randn(500, 4, generator=g), -1)
        >>> labels = torch.multinomial(probs, 1, generator=g).squeeze(1)
        >>> cp = ConformalClassifier(alpha=0.1, method="aps").calibrate(probs[:400], labels[:400], generator=g)
        >>> sets = cp.predict_sets(probs[400:], generator=g)
        >>> sets.shape, sets.dtype
        (torch.Size([100, 4]), torch.bool)

    References:
        Romano, Sesia & Candes (2020), Classification with Valid and Adaptive Coverage, arXiv:2006.02544;
        Angelopoulos, Bates, Malik & Jordan (2021), Uncertainty Sets for Image Classifiers using Conformal
        Prediction, arXiv:2009.14193; Sadinle, Lei & Wasserman (2019), Least Ambiguous Set-Valued Classifiers with
        Bounded Error Levels, arXiv:1609.00451.
    """

    def __init__(
        self,
        alpha: float = 0.1,
        method: SetMethod = "aps",
        *,
        randomized: bool = True,
        lam: float = 0.01,
        k_reg: int = 1,
    ) -> None:
        self.alpha = check_alpha(alpha)
        if method not in ("threshold", "aps", "raps"):
            raise InputError(f"method must be 'threshold', 'aps' or 'raps', got {method!r}")
        if not lam >= 0:
            raise InputError(f"lam must be >= 0, got {lam!r}")
        if isinstance(k_reg, bool) or not isinstance(k_reg, int) or k_reg < 0:
            raise InputError(f"k_reg must be an integer >= 0, got {k_reg!r}")
        self.method = method
        self.randomized = bool(randomized)
        self.lam = float(lam)
        self.k_reg = k_reg
        self.quantile_: torch.Tensor | None = None

    def _uniforms(self, n: int, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if not self.randomized or self.method == "threshold":
            return torch.ones(n, 1, dtype=like.dtype, device=like.device)
        device = generator.device if generator is not None else like.device
        return torch.rand(n, 1, generator=generator, dtype=like.dtype, device=device).to(like.device)

    def scores(self, probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The score E(x, k, u) of every class k, [N, C] (one u per row)."""
        probs = check_probabilities(probs)
        if self.method == "threshold":
            return 1.0 - probs
        n, c = probs.shape
        sorted_p, order = torch.sort(probs, dim=-1, descending=True, stable=True)
        above = torch.cumsum(sorted_p, -1) - sorted_p  # mass strictly above each rank
        u = self._uniforms(n, probs, generator)
        sorted_scores = above + u * sorted_p
        if self.method == "raps":
            rank = torch.arange(1, c + 1, device=probs.device, dtype=probs.dtype)
            sorted_scores = sorted_scores + self.lam * (rank - self.k_reg).clamp_min(0)
        return torch.empty_like(sorted_scores).scatter_(-1, order, sorted_scores)

    def calibrate(
        self, probs: torch.Tensor, labels: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> ConformalClassifier:
        """Compute the quantile of the true classes' scores on held-out data; returns ``self``."""
        probs = check_probabilities(probs)
        labels = check_labels(labels, "labels", probs.shape[0], probs.shape[1])
        true_scores = self.scores(probs, generator).gather(1, labels.to(probs.device).unsqueeze(1)).squeeze(1)
        self.quantile_ = conformal_quantile(true_scores, self.alpha)
        return self

    def predict_sets(self, probs: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The prediction sets as a boolean membership mask [N, C]."""
        if self.quantile_ is None:
            raise InputError("calibrate(probs, labels) on held-out data before predict_sets")
        return self.scores(probs, generator) <= self.quantile_.to(probs)


def set_sizes(sets: torch.Tensor) -> torch.Tensor:
    """The number of classes in each prediction set, [N] (from a boolean mask [N, C])."""
    check_tensor(sets, "sets", ndim=2)
    return sets.sum(-1)


def set_coverage(sets: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of inputs whose true label is in its prediction set."""
    check_tensor(sets, "sets", ndim=2)
    labels = check_labels(labels, "labels", sets.shape[0], sets.shape[1])
    return float(sets.gather(1, labels.to(sets.device).unsqueeze(1)).double().mean())
