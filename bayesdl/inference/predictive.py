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

from typing import Any

import torch

from ..contracts import PredictiveSampler, Predictor
from ..errors import InputError
from ..results.predictive import (
    CategoricalDraws,
    ClassificationPrediction,
    GaussianDraws,
    Prediction,
    RegressionPrediction,
)
from ..validation import check_positive_int, check_tensor

__all__ = [
    "CategoricalDraws",
    "ClassificationPrediction",
    "GaussianDraws",
    "Prediction",
    "RegressionPrediction",
    "predict",
]


def _concat(parts: list[Any]) -> Any:
    first = parts[0]
    if isinstance(first, RegressionPrediction):
        return RegressionPrediction(
            *(torch.cat([getattr(p, f) for p in parts]) for f in ("mean", "epistemic", "aleatoric"))
        )
    return ClassificationPrediction(
        *(torch.cat([getattr(p, f) for p in parts]) for f in ("probs", "entropy", "expected_entropy"))
    )


def predict(model: Any, x: torch.Tensor, num_samples: int = 100, batch_size: int | None = 1024) -> Prediction:
    """Posterior predictive summary of ``model`` at inputs ``x``, computed in batches on the model's device.

    Arguments:
        model: any object satisfying :class:`~bayesdl.contracts.PredictiveSampler` (``predictive_samples(x,
            num_samples)``) or :class:`~bayesdl.contracts.Predictor` (``predict(x, num_samples)``).
        x: inputs [N, ...].
        num_samples: S, the number of posterior draws (weights, dropout masks, members, ...).
        batch_size: examples per chunk (None for all at once).

    Returns:
        A :class:`RegressionPrediction` or :class:`ClassificationPrediction` on the device of ``x``.

    Example:
        A toy model whose S draws of the mean are 0, 1, ... and whose noise variance is 1:

        >>> class Toy:
        ...     def predictive_samples(self, x, num_samples):
        ...         means = torch.arange(num_samples, dtype=x.dtype).unsqueeze(1).expand(-1, len(x))
        ...         return GaussianDraws(means, torch.ones_like(means))
        >>> pred = predict(Toy(), torch.zeros(5, 1), num_samples=3, batch_size=2)
        >>> pred.mean.tolist(), round(pred.epistemic[0].item(), 4), pred.aleatoric[0].item()
        ([1.0, 1.0, 1.0, 1.0, 1.0], 0.6667, 1.0)

    References:
        Kendall & Gal (2017), arXiv:1703.04977; Houlsby et al. (2011), arXiv:1112.5745.
    """
    check_positive_int(num_samples, "num_samples")
    check_tensor(x, "x")
    device = _device_of(model, x)
    chunks = [x] if batch_size is None else list(torch.split(x, check_positive_int(batch_size, "batch_size")))
    parts = []
    with torch.no_grad():
        for chunk in chunks:
            chunk = chunk.to(device)
            if isinstance(model, PredictiveSampler):
                draws = model.predictive_samples(chunk, num_samples)
                part = (
                    RegressionPrediction.from_draws(draws)
                    if isinstance(draws, GaussianDraws)
                    else ClassificationPrediction.from_draws(draws)
                )
            elif isinstance(model, Predictor):
                part = model.predict(chunk, num_samples=num_samples)
            else:
                raise InputError(
                    f"{type(model).__name__} satisfies neither PredictiveSampler (predictive_samples()) "
                    "nor Predictor (predict()) of bayesdl.contracts"
                )
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
