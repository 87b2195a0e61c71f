"""The common shape of the uncertainty-aware supervised models, and the plain (point-estimate) network.

A supervised model holds a network ``net`` and a likelihood head (see :mod:`bayesdl.nn.heads`).
Its ``loss(x, y)`` is the mean negative log-likelihood per example (plus, for Bayesian models, a KL term),
and ``predictive_samples(x, num_samples)`` returns draws of the predictive distribution as
:class:`~bayesdl.inference.predictive.GaussianDraws` or :class:`~bayesdl.inference.predictive.CategoricalDraws`,
so that :func:`bayesdl.inference.predictive.predict` summarises every method the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from ..errors import InputError
from ..io import serializable
from ..nn.heads import SUPERVISED_HEADS, Head, make_head
from ..randomness import seed_from, seeded_rng
from ..results.function_draws import FunctionDraws
from ..results.predictive import CategoricalDraws, GaussianDraws
from ..validation import check_choice, check_positive_int
from .nets import check_input


@contextlib.contextmanager
def evaluation_mode(module: nn.Module, keep_dropout: bool = False) -> Iterator[None]:
    """Put ``module`` in eval mode (batch norm uses running statistics) and restore the previous modes after.

    With ``keep_dropout=True`` the dropout layers stay active, as MC dropout needs at prediction time.
    """
    previous = {m: m.training for m in module.modules()}
    module.eval()
    if keep_dropout:
        for m in module.modules():
            if isinstance(m, nn.modules.dropout._DropoutNd):
                m.train()
    try:
        yield
    finally:
        for m, mode in previous.items():
            m.training = mode


def stack_draws(likelihood: Head, outputs: list[torch.Tensor]) -> GaussianDraws | CategoricalDraws:
    """Turn S raw network outputs [B, K] into predictive draws for ``likelihood``."""
    if likelihood.kind == "classification":
        return CategoricalDraws(torch.stack([likelihood.probs(o) for o in outputs]))
    pairs = [likelihood.mean_var(o) for o in outputs]
    return GaussianDraws(torch.stack([m for m, _ in pairs]), torch.stack([v for _, v in pairs]))


class SupervisedModel(nn.Module):
    """Base class: a network plus a likelihood head, with ``loss`` and ``predictive_samples``."""

    net: nn.Module
    likelihood: Head
    #: the network may run under bf16/fp16 autocast: its outputs are cast to float32 before the likelihood
    mixed_precision_safe = True
    #: check_data validates (x, y): see bayesdl.contracts.check_data_arity
    data_arguments = 2
    #: the method's name in ArviZ exports (``FunctionDraws.method``)
    method_name = "supervised"
    #: whether one predictive draw is a draw of a (possibly approximate) Bayesian posterior
    posterior_draws = False
    #: what one draw is, for ArviZ exports
    draw_note = ""

    def _build(self, net: nn.Module, likelihood: str, noise_std: float, learn_noise: bool) -> None:
        num_outputs = getattr(net, "out_features", None)
        if num_outputs is None:
            raise TypeError(f"{type(net).__name__} must expose out_features (the bayesdl nets do)")
        check_choice(likelihood, "likelihood", SUPERVISED_HEADS)
        self.likelihood = make_head(
            likelihood, num_outputs=num_outputs, noise_std=noise_std, learn_noise=learn_noise
        )

    def check_data(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Raise InputError unless ``x`` is a finite batch for the network and ``y`` holds valid targets.

        The trainer calls this once on the training data at the start of ``fit``; its minibatches are then
        not checked again (:func:`bayesdl.validation.is_checked`).
        """
        check_input(self.net, x)
        self.likelihood.check_target(y)
        if len(x) != len(y):
            raise InputError(f"x and y must have the same number of rows, got {len(x)} and {len(y)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The raw network outputs (logits, or mean [and log-variance]) for one draw."""
        return self.net(check_input(self.net, x))

    def data_nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """-log p(y_n | x_n) for one draw of the network, per example [B]."""
        return self.likelihood.nll(self(x).float(), y)  # log-densities in float32, also under autocast

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The mean negative log-likelihood per example."""
        return self.data_nll(x, y).mean()

    def _draw_outputs(self, x: torch.Tensor, num_samples: int) -> list[torch.Tensor]:
        with evaluation_mode(self):
            return [self.net(x)]

    def predictive_samples(self, x: torch.Tensor, num_samples: int) -> GaussianDraws | CategoricalDraws:
        """Draws of the predictive distribution at ``x`` (see the subclass for what one draw is)."""
        check_positive_int(num_samples, "num_samples")
        check_input(self.net, x)
        return stack_draws(self.likelihood, self._draw_outputs(x, num_samples))

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """The draws of :meth:`predictive_samples` as one chain of :class:`~bayesdl.results.FunctionDraws`.

        Arguments:
            x: inputs [B, ...].
            num_samples: S, the number of draws.
            seed, generator: fix the draws (the global torch generator is forked and restored); neither draws
                from the global generator.

        Returns:
            One chain of S draws, for :func:`bayesdl.diagnostics.predictive_to_inference_data`.
        """
        with torch.no_grad(), seeded_rng(seed_from(seed, generator)):
            draws = self.predictive_samples(x, num_samples)
        return FunctionDraws.from_draws(
            draws, self.method_name, bayesian=self.posterior_draws, note=self.draw_note
        )


@serializable
class PlainNet(SupervisedModel):
    """A point-estimate network trained by maximum likelihood: the baseline without epistemic uncertainty.

    ``predictive_samples`` returns one draw whatever ``num_samples`` is, so the epistemic variance (and the
    mutual information) is zero; the aleatoric part comes from the likelihood head.

    Arguments:
        net: a network with ``out_features`` matching the likelihood (C classes, 1 or 2 regression outputs).
        likelihood: "categorical", "heteroscedastic" (mean and log-variance) or "homoscedastic" (learned noise).
        noise_std: initial noise sd of the homoscedastic head.
        learn_noise: learn the homoscedastic noise sd (else keep ``noise_std``).

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> model = PlainNet(MLP(1, [8], 2), likelihood="heteroscedastic")
        >>> model.loss(torch.randn(4, 1), torch.randn(4)).shape
        torch.Size([])
    """

    method_name = "map"
    draw_note = "one point estimate (maximum likelihood); not a posterior draw"

    def __init__(
        self,
        net: nn.Module,
        likelihood: str = "categorical",
        noise_std: float = 1.0,
        learn_noise: bool = True,
    ) -> None:
        super().__init__()
        self.net = net
        self._build(net, likelihood, noise_std, learn_noise)
