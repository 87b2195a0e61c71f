"""Predictive results: S posterior draws of a predictive and their summaries with the uncertainty split.

A model's ``predictive_samples(x, num_samples)`` returns :class:`GaussianDraws` (regression) or
:class:`CategoricalDraws` (classification); :func:`bayesdl.inference.predict` summarises them into

* :class:`RegressionPrediction`: with S draws of the mean mu_s(x) and noise variance sigma_s^2(x), the
  law of total variance gives Var[y|x] = Var_s[mu_s(x)] (epistemic) + E_s[sigma_s^2(x)] (aleatoric)
  (Kendall & Gal 2017, arXiv:1703.04977; Depeweg et al. 2018, arXiv:1710.07283);
* :class:`ClassificationPrediction`: with S draws of class probabilities p_s(y|x), the entropy of the mean
  H[E_s p_s] (total) splits into the mean entropy E_s H[p_s] (aleatoric) and the mutual information
  between y and the parameters (epistemic) (Houlsby et al. 2011, arXiv:1112.5745).

These types sit below both the models (which build them) and the inference and diagnostics layers
(which summarise and plot them); this module imports only torch and bayesdl's argument checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import InputError
from ..validation import check_tensor


@dataclass
class GaussianDraws:
    """S draws of a Gaussian predictive: means [S, B] and noise variances [S, B] (or [S, B, K] for K outputs).

    What a regression model's ``predictive_samples`` returns; :meth:`RegressionPrediction.from_draws`
    summarises it.

    Attributes:
        means: predictive means mu_s(x) of each draw, [S, B] or [S, B, K], in the units of y.
        noise_variances: noise variances sigma_s^2(x) of each draw, same shape, >= 0, in squared units of y.

    Example:
        >>> draws = GaussianDraws(means=torch.tensor([[0.0], [2.0]]), noise_variances=torch.ones(2, 1))
        >>> RegressionPrediction.from_draws(draws).epistemic
        tensor([1.])

    References:
        Kendall & Gal (2017), What Uncertainties Do We Need in Bayesian Deep Learning for Computer Vision?,
        arXiv:1703.04977.
    """

    means: torch.Tensor
    noise_variances: torch.Tensor


@dataclass
class CategoricalDraws:
    """S draws of a categorical predictive: class probabilities [S, B, C].

    What a classifier's ``predictive_samples`` returns; :meth:`ClassificationPrediction.from_draws`
    summarises it.

    Attributes:
        probs: class probabilities p_s(y | x) of each draw, [S, B, C], rows summing to 1.

    Example:
        >>> draws = CategoricalDraws(probs=torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]]))
        >>> ClassificationPrediction.from_draws(draws).probs
        tensor([[0.5000, 0.5000]])

    References:
        Houlsby, Huszar, Ghahramani & Lengyel (2011), Bayesian Active Learning for Classification and
        Preference Learning, arXiv:1112.5745.
    """

    probs: torch.Tensor


@dataclass
class RegressionPrediction:
    """Predictive mean with its variance split into epistemic and aleatoric parts (all shape [B] or [B, K]).

    Attributes:
        mean: the predictive mean E[y | x], in the units of y.
        epistemic: Var_s[mu_s(x)], the variance due to uncertainty about the parameters (squared units of y).
        aleatoric: E_s[sigma_s^2(x)], the expected noise variance (squared units of y).

    Example:
        >>> pred = RegressionPrediction(torch.zeros(2), torch.tensor([1.0, 0.0]), torch.tensor([3.0, 1.0]))
        >>> pred.std
        tensor([2., 1.])
        >>> low, high = pred.interval(0.95)
        >>> [round(v, 2) for v in high.tolist()]
        [3.92, 1.96]

    References:
        Kendall & Gal (2017), arXiv:1703.04977; Depeweg, Hernandez-Lobato, Doshi-Velez & Udluft (2018),
        Decomposition of Uncertainty in Bayesian Deep Learning for Efficient and Risk-sensitive Learning,
        arXiv:1710.07283.
    """

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

        Arguments:
            level: the probability mass of the interval, in (0, 1).

        Returns:
            ``(lower, upper)``, each of the shape of ``mean``.
        """
        if not 0.0 < level < 1.0:
            raise InputError(f"level must be in (0, 1), got {level}")
        z = math.sqrt(2.0) * torch.special.erfinv(torch.tensor(level)).item()  # Phi^-1((1 + level) / 2)
        return self.mean - z * self.std, self.mean + z * self.std

    def quantile(self, q: float) -> torch.Tensor:
        """The q-quantile of the moment-matched Gaussian predictive.

        Arguments:
            q: the probability level, in (0, 1).

        Returns:
            The quantile, of the shape of ``mean``.
        """
        if not 0.0 < q < 1.0:
            raise InputError(f"q must be in (0, 1), got {q}")
        z = math.sqrt(2.0) * torch.special.erfinv(torch.tensor(2.0 * q - 1.0)).item()
        return self.mean + z * self.std

    @classmethod
    def from_draws(cls, draws: GaussianDraws) -> RegressionPrediction:
        """Apply the law of total variance to S draws (population variance over draws).

        Arguments:
            draws: :class:`GaussianDraws` with finite means and non-negative noise variances.

        Returns:
            The summary; the epistemic part is 0 for a single draw.
        """
        means, noise = draws.means, draws.noise_variances
        check_tensor(means, "means", ndim=(2, 3))
        check_tensor(noise, "noise_variances", shape=list(means.shape))
        if float(noise.min()) < 0:
            raise InputError("noise_variances must be non-negative")
        epistemic = means.var(0, unbiased=False) if means.shape[0] > 1 else torch.zeros_like(means[0])
        return cls(mean=means.mean(0), epistemic=epistemic, aleatoric=noise.mean(0))


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.where(p > 0, p.log(), torch.zeros_like(p))).sum(-1)


@dataclass
class ClassificationPrediction:
    """Averaged class probabilities [B, C] with the entropy decomposition (each [B], in nats).

    Attributes:
        probs: the predictive probabilities E_s p_s(y | x), [B, C].
        entropy: the total uncertainty H[E_s p_s], [B], in nats.
        expected_entropy: the aleatoric part E_s H[p_s], [B], in nats; ``mutual_information`` is the
            epistemic rest.

    Example:
        >>> draws = CategoricalDraws(probs=torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]]))
        >>> pred = ClassificationPrediction.from_draws(draws)
        >>> round(pred.entropy.item(), 4), pred.expected_entropy.item(), round(pred.mutual_information.item(), 4)
        (0.6931, 0.0, 0.6931)

    References:
        Houlsby, Huszar, Ghahramani & Lengyel (2011), arXiv:1112.5745; Depeweg et al. (2018), arXiv:1710.07283.
    """

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
        """Average S draws of probabilities and decompose the entropy.

        Arguments:
            draws: :class:`CategoricalDraws` whose probabilities are non-negative and sum to 1.

        Returns:
            The summary.
        """
        check_tensor(draws.probs, "probs", ndim=3)
        if float(draws.probs.min()) < 0 or not torch.allclose(
            draws.probs.sum(-1), torch.ones_like(draws.probs[..., 0]), atol=1e-4
        ):
            raise InputError("probs draws must be non-negative and sum to 1 over classes")
        probs = draws.probs.mean(0)
        return cls(probs=probs, entropy=_entropy(probs), expected_entropy=_entropy(draws.probs).mean(0))


Prediction = RegressionPrediction | ClassificationPrediction
