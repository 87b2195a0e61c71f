"""Posterior predictive summaries with the split into epistemic and aleatoric uncertainty.

Every uncertainty-aware model in bayesdl (Bayes by Backprop, MC dropout, deep ensembles, MCMC over
weights, Gaussian processes) answers :func:`predict` with one of two result objects:

* :class:`RegressionPrediction` for a Gaussian predictive: with S posterior draws of the mean
  mu_s(x) and noise variance sigma_s^2(x), the law of total variance gives
  Var[y|x] = Var_s[mu_s(x)] (epistemic) + E_s[sigma_s^2(x)] (aleatoric)
  (Kendall & Gal 2017, arXiv:1703.04977; Depeweg et al. 2018, arXiv:1710.07283).
* :class:`ClassificationPrediction` for a categorical predictive: with S draws of class
  probabilities p_s(y|x), the entropy of the mean H[E_s p_s] (total) splits into the mean entropy
  E_s H[p_s] (aleatoric) and the mutual information between y and the parameters (epistemic)
  (Houlsby et al. 2011, arXiv:1112.5745).

Models plug in by implementing ``predictive_samples(x, num_samples) -> GaussianDraws | CategoricalDraws``,
or ``predict(x, num_samples)`` returning a result object directly (models with closed-form moments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import InputError
from ..validation import check_positive_int, check_tensor


@dataclass
class GaussianDraws:
    """S draws of a Gaussian predictive: means [S, B] and noise variances [S, B] (or [S, B, K] for K outputs)."""

    means: torch.Tensor
    noise_variances: torch.Tensor


@dataclass
class CategoricalDraws:
    """S draws of a categorical predictive: class probabilities [S, B, C]."""

    probs: torch.Tensor


@dataclass
class RegressionPrediction:
    """Predictive mean with its variance split into epistemic and aleatoric parts (all shape [B] or [B, K])."""

    mean: torch.Tensor
    epistemic: torch.Tensor
    aleatoric: torch.Tensor

    @property
    def variance(self) -> torch.Tensor:
        """The total predictive variance, epistemic + aleatoric."""
        return self.epistemic + self.aleatoric

    @property
    def std(self) -> torch.Tensor:
        """The total predictive standard deviation."""
        return self.variance.sqrt()

    def interval(self, level: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
        """The central ``level`` interval of the Gaussian with the predictive mean and total variance.

        (A moment-matched Gaussian; with S draws the exact predictive is a mixture of Gaussians.)
        """
        if not 0.0 < level < 1.0:
            raise InputError(f"level must be in (0, 1), got {level}")
        z = math.sqrt(2.0) * torch.special.erfinv(torch.tensor(level)).item()  # Phi^{-1}((1 + level) / 2)
        return self.mean - z * self.std, self.mean + z * self.std

    def quantile(self, q: float) -> torch.Tensor:
        """The q-quantile of the moment-matched Gaussian predictive."""
        if not 0.0 < q < 1.0:
            raise InputError(f"q must be in (0, 1), got {q}")
        z = math.sqrt(2.0) * torch.special.erfinv(torch.tensor(2.0 * q - 1.0)).item()
        return self.mean + z * self.std

    @classmethod
    def from_draws(cls, draws: GaussianDraws) -> RegressionPrediction:
        """Apply the law of total variance to S draws (population variance over draws)."""
        means, noise = draws.means, draws.noise_variances
        epistemic = means.var(0, unbiased=False) if means.shape[0] > 1 else torch.zeros_like(means[0])
        return cls(mean=means.mean(0), epistemic=epistemic, aleatoric=noise.mean(0))


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.where(p > 0, p.log(), torch.zeros_like(p))).sum(-1)


@dataclass
class ClassificationPrediction:
    """Averaged class probabilities [B, C] with the entropy decomposition (each [B], in nats)."""

    probs: torch.Tensor
    entropy: torch.Tensor
    expected_entropy: torch.Tensor

    @property
    def mutual_information(self) -> torch.Tensor:
        """Epistemic uncertainty: H[E p] - E H[p] >= 0 (clamped at 0 only against float rounding)."""
        return (self.entropy - self.expected_entropy).clamp_min(0.0)

    @property
    def predicted(self) -> torch.Tensor:
        """The most probable class of each example."""
        return self.probs.argmax(-1)

    @classmethod
    def from_draws(cls, draws: CategoricalDraws) -> ClassificationPrediction:
        """Average S draws of probabilities and decompose the entropy."""
        probs = draws.probs.mean(0)
        return cls(probs=probs, entropy=_entropy(probs), expected_entropy=_entropy(draws.probs).mean(0))


Prediction = RegressionPrediction | ClassificationPrediction


def _concat(parts: list[Any]) -> Any:
    first = parts[0]
    if isinstance(first, RegressionPrediction):
        return RegressionPrediction(*(torch.cat([getattr(p, f) for p in parts]) for f in ("mean", "epistemic", "aleatoric")))
    return ClassificationPrediction(*(torch.cat([getattr(p, f) for p in parts]) for f in ("probs", "entropy", "expected_entropy")))


def predict(model: Any, x: torch.Tensor, num_samples: int = 100, batch_size: int | None = 1024) -> Prediction:
    """Posterior predictive summary of ``model`` at inputs ``x``, computed in batches on the model's device.

    Arguments:
        model: any bayesdl model with ``predictive_samples(x, num_samples)`` or ``predict(x, num_samples)``.
        x: inputs [N, ...].
        num_samples: S, the number of posterior draws (weights, dropout masks, members, ...).
        batch_size: examples per chunk (None for all at once).

    Returns:
        A :class:`RegressionPrediction` or :class:`ClassificationPrediction` on the device of ``x``.
    """
    check_positive_int(num_samples, "num_samples")
    check_tensor(x, "x")
    device = _device_of(model, x)
    chunks = [x] if batch_size is None else list(torch.split(x, check_positive_int(batch_size, "batch_size")))
    parts = []
    with torch.no_grad():
        for chunk in chunks:
            chunk = chunk.to(device)
            if hasattr(model, "predictive_samples"):
                draws = model.predictive_samples(chunk, num_samples)
                part = RegressionPrediction.from_draws(draws) if isinstance(draws, GaussianDraws) else ClassificationPrediction.from_draws(draws)
            elif hasattr(model, "predict"):
                part = model.predict(chunk, num_samples=num_samples)
            else:
                raise InputError(f"{type(model).__name__} has neither predictive_samples() nor predict()")
            parts.append(part)
    result = _concat(parts)
    for name, value in vars(result).items():
        setattr(result, name, value.to(x.device))
    return result


def _device_of(model: Any, x: torch.Tensor) -> torch.device:
    if isinstance(model, torch.nn.Module):
        for tensor in list(model.parameters()) + list(model.buffers()):
            return tensor.device
    return x.device
