"""The model contract: what the inference layer asks of a model, written as ``typing.Protocol`` s.

The trainer, the estimators and the predictive tools never know which model they run; they check
whether it satisfies one of these protocols (``isinstance(model, HasLoss)``: all are
``runtime_checkable``) and drive it through that protocol only. A new family needs nothing else:

* to be trained: :class:`HasLoss` (``loss(*batch)``; add a ``num_data`` keyword, :func:`loss_takes_num_data`,
  to receive the training-set size for once-per-epoch KL scaling) or :class:`PyroModelGuide`
  (``model``/``guide`` for Pyro's ELBOs);
* to have its training data validated once: :class:`ChecksData` (``check_data(*tensors)`` raising
  :class:`~bayesdl.errors.InputError` that names the argument);
* to train under bf16/fp16 autocast: :class:`MixedPrecisionSafe` (``mixed_precision_safe = True``);
* to be annealed by :class:`~bayesdl.inference.KLWarmup`: :class:`KLWeighted` (a ``kl_weight`` attribute);
* to answer :func:`~bayesdl.inference.predict`: :class:`PredictiveSampler` (``predictive_samples``) or
  :class:`Predictor` (``predict`` with closed-form moments);
* to be watched during training by :class:`~bayesdl.inference.recipes.RBMMonitor`: :class:`HasTrainingMonitors`
  (``reconstruction_error`` and ``pseudo_log_likelihood`` per example);
* to tune a prior precision online by the marginal likelihood (:class:`~bayesdl.inference.recipes.OnlineMarglik`):
  an approximation of the evidence that satisfies :class:`EvidenceApproximation` (``fit``, ``log_evidence``,
  ``covered_parameters``), such as :class:`~bayesdl.models.laplace.Laplace`;
* to be exported to ArviZ (PSIS-LOO, WAIC, ``az.compare``): :class:`HasFunctionDraws`
  (``predictive_draws(x, num_samples, *, seed, generator)`` returning :class:`~bayesdl.results.FunctionDraws`);
* to have a density: :class:`DensityModel` (``log_prob(x)`` in nats per example, shape [B]), or through an ODE:
  :class:`ProbabilityFlow` (``velocity``, ``prior_log_prob``, ``time_span``);
* to be evaluated by importance sampling: :class:`LatentVariableModel` (``proposal``,
  ``prior_distribution``, ``likelihood``);
* to be saved and loaded: :class:`Serializable` (the ``@bayesdl.io.serializable`` decorator, whose
  constructor arguments are JSON values or other serializable modules).

``docs/adding_a_model.md`` builds a family that satisfies them in under 60 lines; ``tests/test_contract.py``
checks every registered family against them.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

import torch

from .results.function_draws import FunctionDraws
from .results.predictive import (
    CategoricalDraws,
    ClassificationPrediction,
    GaussianDraws,
    RegressionPrediction,
)

__all__ = [
    "ChecksData",
    "DensityModel",
    "EvidenceApproximation",
    "HasFunctionDraws",
    "HasLoss",
    "HasTrainingMonitors",
    "KLWeighted",
    "LatentVariableModel",
    "MixedPrecisionSafe",
    "PredictiveSampler",
    "ProbabilityFlow",
    "Predictor",
    "PyroModelGuide",
    "Serializable",
    "check_data_arity",
    "is_mixed_precision_safe",
    "loss_takes_num_data",
]


@runtime_checkable
class HasLoss(Protocol):
    """A model with its own training loss: ``loss(*batch)`` returns a finite scalar tensor to minimise.

    A tuple batch ``(x, y)`` is unpacked into ``loss(x, y)``. A ``loss`` with a ``num_data`` keyword
    receives the training-set size N (see :func:`loss_takes_num_data`), which lets a Bayesian network
    weigh its KL once per epoch (Blundell et al. 2015, arXiv:1505.05424, eq. 8).

    Example:
        >>> class Gauss(torch.nn.Module):
        ...     def loss(self, x):
        ...         return 0.5 * x.pow(2).mean()
        >>> isinstance(Gauss(), HasLoss)
        True
    """

    def loss(self, *batch: torch.Tensor) -> torch.Tensor: ...


def loss_takes_num_data(model: HasLoss) -> bool:
    """Whether ``model.loss`` declares a ``num_data`` keyword (and so wants the training-set size N).

    Arguments:
        model: a :class:`HasLoss` model.

    Example:
        >>> class Scaled:
        ...     def loss(self, x, num_data=None): ...
        >>> loss_takes_num_data(Scaled())
        True
    """
    return "num_data" in inspect.signature(model.loss).parameters


@runtime_checkable
class PyroModelGuide(Protocol):
    """A Pyro generative model and guide over the same batch: ``model(*batch)`` and ``guide(*batch)``, trained by
    one of Pyro's ELBOs. Data sites sit in ``pyro.plate("data", B)`` so that minibatches can be scaled.

    Example:
        >>> from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> isinstance(vae, PyroModelGuide), isinstance(torch.nn.Linear(2, 1), PyroModelGuide)
        (True, False)
    """

    def model(self, *batch: torch.Tensor) -> Any: ...

    def guide(self, *batch: torch.Tensor) -> Any: ...


@runtime_checkable
class ChecksData(Protocol):
    """A model that validates its data: ``check_data(*tensors)`` takes the tensors of one batch (``x``, or ``x``
    and ``y``) and raises :class:`~bayesdl.errors.InputError` naming the argument when a value cannot be
    scored (NaN, wrong shape or dtype, non-binary data for a Bernoulli likelihood, ...).

    A model that checks more than one tensor says how many in ``data_arguments`` (:func:`check_data_arity`).
    The trainer calls it once on the whole training data before the first epoch when the number of
    tensors matches; the batches are then trusted
    (:func:`bayesdl.validation.checked_data`).

    Example:
        >>> from bayesdl.models import NADE
        >>> isinstance(NADE(4, 8), ChecksData), check_data_arity(NADE(4, 8))
        (True, 1)
    """

    def check_data(self, *tensors: torch.Tensor) -> Any: ...


def check_data_arity(model: ChecksData) -> int:
    """How many tensors ``model.check_data`` validates: the model's ``data_arguments`` (2 for a supervised
    ``check_data(x, y)``), 1 when it declares none (``check_data(x, name="x")`` of a density model).

    Arguments:
        model: a :class:`ChecksData` model.

    Example:
        >>> class Supervised:
        ...     data_arguments = 2
        ...     def check_data(self, x, y): ...
        >>> class Density:
        ...     def check_data(self, x, name="x"): ...
        >>> check_data_arity(Supervised()), check_data_arity(Density())
        (2, 1)
    """
    return int(getattr(model, "data_arguments", 1))


@runtime_checkable
class MixedPrecisionSafe(Protocol):
    """A model that declares ``mixed_precision_safe = True``: its loss keeps float32 where it matters (KL,
    log-determinants, long products) under bf16/fp16 autocast. Models without the attribute train in fp32.

    Example:
        >>> class Safe(torch.nn.Module):
        ...     mixed_precision_safe = True
        >>> isinstance(Safe(), MixedPrecisionSafe), isinstance(torch.nn.Linear(2, 1), MixedPrecisionSafe)
        (True, False)
    """

    mixed_precision_safe: bool


def is_mixed_precision_safe(model: object) -> bool:
    """Whether ``model`` declares itself safe under autocast (:class:`MixedPrecisionSafe` with the flag True).

    Arguments:
        model: any object.

    Example:
        >>> from bayesdl.models import MADE
        >>> is_mixed_precision_safe(MADE(4, [8]))
        False
    """
    return isinstance(model, MixedPrecisionSafe) and bool(model.mixed_precision_safe)


@runtime_checkable
class KLWeighted(Protocol):
    """A model whose loss multiplies its KL term by ``kl_weight`` (1 = the true bound), which
    :class:`~bayesdl.inference.KLWarmup` raises from near 0 to 1 (Bowman et al. 2015, arXiv:1511.06349).

    Example:
        >>> from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
        >>> isinstance(VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8])), KLWeighted)
        True
    """

    kl_weight: float


@runtime_checkable
class PredictiveSampler(Protocol):
    """A model with S draws of its predictive at inputs x: ``predictive_samples(x, num_samples)`` returns
    :class:`~bayesdl.results.GaussianDraws` (regression) or :class:`~bayesdl.results.CategoricalDraws`
    (classification), which :func:`~bayesdl.inference.predict` decomposes into epistemic and aleatoric parts.

    Example:
        >>> from bayesdl.models import MLP, MCDropout
        >>> isinstance(MCDropout(MLP(2, [8], 3, dropout=0.1)), PredictiveSampler)
        True
    """

    def predictive_samples(self, x: torch.Tensor, num_samples: int) -> GaussianDraws | CategoricalDraws: ...


@runtime_checkable
class Predictor(Protocol):
    """A model with closed-form predictive moments: ``predict(x, num_samples)`` returns a
    :class:`~bayesdl.results.RegressionPrediction` or :class:`~bayesdl.results.ClassificationPrediction`
    (``num_samples`` is used only where the model needs Monte Carlo, e.g. a GP classifier's likelihood).

    Example:
        >>> from bayesdl.models import ExactGPRegression
        >>> isinstance(ExactGPRegression(1, num_train=4), Predictor)
        True
    """

    def predict(
        self, x: torch.Tensor, num_samples: int = ...
    ) -> RegressionPrediction | ClassificationPrediction: ...


@runtime_checkable
class HasTrainingMonitors(Protocol):
    """An energy-based model with cheap training monitors, one value per example: ``reconstruction_error(v)``
    (one up-down pass) and ``pseudo_log_likelihood(v, seed=...)`` (Besag 1975); with ``check_data`` and
    ``parameters`` they are all that :class:`~bayesdl.inference.recipes.RBMMonitor` uses.

    Example:
        >>> from bayesdl.models.rbm import RBM
        >>> isinstance(RBM(4, 3), HasTrainingMonitors), isinstance(torch.nn.Linear(2, 1), HasTrainingMonitors)
        (True, False)
    """

    def check_data(self, *tensors: torch.Tensor) -> Any: ...

    def reconstruction_error(self, v: torch.Tensor) -> torch.Tensor: ...

    def pseudo_log_likelihood(self, v: torch.Tensor, *, seed: int | None = ...) -> torch.Tensor: ...


@runtime_checkable
class EvidenceApproximation(Protocol):
    """An approximation of the log marginal likelihood log p(D | delta[, sigma]) of a network's weights, refitted at
    the current weights by ``fit(data)`` and differentiable in the hyperparameters: ``log_evidence(delta, sigma)``
    returns a scalar tensor (``sigma`` only for regression, None for the fitted one). ``covered_parameters()``
    lists the weights whose prior has precision delta; ``kind`` is "classification" or "regression".
    :class:`~bayesdl.inference.recipes.OnlineMarglik` drives it without importing the models layer.

    Example:
        >>> from bayesdl.models.laplace import Laplace
        >>> isinstance(Laplace(torch.nn.Sequential(torch.nn.Linear(2, 3)), likelihood="classification"), EvidenceApproximation)
        True
    """

    kind: str

    def fit(self, data: Any) -> Any: ...

    def log_evidence(
        self, prior_precision: torch.Tensor, noise_std: torch.Tensor | None = None
    ) -> torch.Tensor: ...

    def covered_parameters(self) -> list[torch.nn.Parameter]: ...


@runtime_checkable
class HasFunctionDraws(Protocol):
    """A model whose predictive draws at inputs x can be kept by chain, with the parameter draws behind them:
    ``predictive_draws(x, num_samples, *, seed=None, generator=None)`` returns
    :class:`~bayesdl.results.FunctionDraws` [chain, draw, B, ...]. The diagnostics layer converts it into an
    ArviZ ``InferenceData`` (:func:`bayesdl.diagnostics.predictive_to_inference_data`) without knowing the model.

    A seed (or generator) fixes the draws and leaves the global generators as they were.

    Example:
        >>> from bayesdl.models import MLP, MCDropout
        >>> isinstance(MCDropout(MLP(2, [8], 3, dropout=0.1)), HasFunctionDraws)
        True
    """

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = ...,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws: ...


@runtime_checkable
class DensityModel(Protocol):
    """A model with a normalised log-density: ``log_prob(x)`` in nats per example, shape [B] (a bound must say
    so in its name, e.g. ``elbo`` or ``negative_elbo``, never ``log_prob``).

    Example:
        >>> from bayesdl.models import NADE
        >>> isinstance(NADE(4, 8), DensityModel), tuple(NADE(4, 8).log_prob(torch.zeros(3, 4)).shape)
        (True, (3,))
    """

    def log_prob(self, x: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class ProbabilityFlow(Protocol):
    """A continuous-time model whose density is the prior pushed through an ODE dx/dt = v(x, t), as
    :func:`bayesdl.inference.ode_log_likelihood` needs it (score SDEs through their probability-flow ODE,
    flow matching, continuous normalising flows).

    * ``velocity(x, t)``: v(x, t), the shape of x, for a batch x [B, ...] and times t [B];
    * ``prior_log_prob(z)``: log pi(z) of the prior at the prior time, [B] (nats);
    * ``time_span``: (t_data, t_prior), the times at which the ODE state is the data and the prior draw.

    Example:
        >>> class Still(torch.nn.Module):
        ...     time_span = (0.0, 1.0)
        ...     def velocity(self, x, t):
        ...         return torch.zeros_like(x)
        ...     def prior_log_prob(self, z):
        ...         return -0.5 * z.pow(2).sum(1)
        >>> isinstance(Still(), ProbabilityFlow)
        True
    """

    time_span: tuple[float, float]

    def velocity(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor: ...

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class LatentVariableModel(Protocol):
    """A model p(z) p(x|z) with an inference model q(z|x), as the importance-sampling estimators need it.

    * ``proposal(x)``: q(z|x), batch shape [B], with ``sample``/``rsample(sample_shape)`` and ``log_prob``;
    * ``prior_distribution()``: p(z), with ``log_prob`` broadcasting over leading dimensions;
    * ``likelihood(z)``: p(x|z) for z [..., B, L], batch shape [..., B], ``log_prob(x)`` taking x [B, ...].

    A model may add ``log_likelihood(z, x)``, a direct formula for log p(x|z) that skips building a
    distribution (used by :func:`bayesdl.bounds.log_importance_weights` when present).

    Example:
        >>> from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder
        >>> isinstance(VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8])), LatentVariableModel)
        True

    References:
        Burda, Grosse & Salakhutdinov (2015), Importance Weighted Autoencoders, arXiv:1509.00519.
    """

    def proposal(self, x: torch.Tensor) -> torch.distributions.Distribution: ...

    def prior_distribution(self) -> torch.distributions.Distribution: ...

    def likelihood(self, z: torch.Tensor) -> torch.distributions.Distribution: ...


@runtime_checkable
class Serializable(Protocol):
    """A module that :func:`bayesdl.save` can store and :func:`bayesdl.load` rebuild: decorated with
    ``@bayesdl.io.serializable``, so ``config`` holds its constructor arguments (JSON values or other
    serializable modules) and its tensors live in its ``state_dict``.

    Example:
        >>> from bayesdl.models import MLP
        >>> isinstance(MLP(2, [4], 1), Serializable), isinstance(torch.nn.Linear(2, 1), Serializable)
        (True, False)
    """

    @property
    def config(self) -> dict[str, Any]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...
