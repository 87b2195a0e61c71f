"""Draws of a model's predictive at fixed inputs, kept by chain: what every predictive model hands to ArviZ.

A model's ``predictive_draws(x, num_samples, *, seed=None, generator=None)`` returns :class:`FunctionDraws`;
:func:`bayesdl.diagnostics.predictive_to_inference_data` turns it into an ``InferenceData`` with the
pointwise log-likelihood of given targets, so that PSIS-LOO, WAIC and ``az.compare`` rank every method on one
scale. This module imports only torch.

What one draw is depends on the method, and so does what LOO over the draws means. With S draws
f_1..f_S of the function and targets y_i, the log pointwise predictive density is

    lppd = sum_i log (1/S) sum_s p(y_i | f_s(x_i)),

and PSIS-LOO (Vehtari, Gelman & Gabry 2017, arXiv:1507.04544) estimates sum_i log p(y_i | y_-i) by
reweighting the same draws. For draws of a posterior (MCMC, SG-MCMC, or an approximate one: Bayes by
Backprop, SWAG, Laplace, a GP) that is leave-one-out cross-validation of the (approximate) posterior
predictive. For draws that are not posterior draws in the Bayesian sense (``bayesian=False``: the members of
a deep ensemble, dropout masks, a single MAP network) the weights are applied to a fixed mixture of
functions, and LOO then measures the mixture's fit with an importance-sampling correction that has no
posterior to remove the point from; read it as the lppd with a penalty, not as cross-validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..densities import normal_log_prob
from ..errors import InputError
from .predictive import CategoricalDraws, GaussianDraws, RegressionPrediction

__all__ = ["FunctionDraws"]


@dataclass
class FunctionDraws:
    """Draws [chain, draw, B, ...] of a predictive at B inputs, with the parameter draws that made them.

    Regression draws hold ``means`` (the function values mu_s(x)) and ``noise_variances`` sigma_s^2(x), each
    [C, S, B] or [C, S, B, K] for K outputs; classification draws hold ``probs`` [C, S, B, K] over K classes.

    Attributes:
        method: the method's name ("bbb", "mc_dropout", "ensemble", "exact_gp", "laplace", "swag", ...).
        means, noise_variances: regression function values and noise variances, or None.
        probs: classification probabilities, or None.
        parameters: name -> [C, S, ...] parameter draws behind the function draws (empty for function-space
            methods and where the draws do not correspond to stored weights, e.g. local reparameterisation).
        bayesian: whether the draws are draws of a (possibly approximate) Bayesian posterior; False for
            ensemble members, dropout masks and point estimates (see the module docstring for what LOO means then).
        note: what one draw is, in words (goes into the InferenceData attributes).

    Example:
        >>> draws = FunctionDraws.from_draws(GaussianDraws(torch.zeros(4, 3), torch.ones(4, 3)), "toy", num_chains=2)
        >>> draws.num_chains, draws.num_draws, tuple(draws.log_likelihood(torch.zeros(3)).shape)
        (2, 2, (2, 2, 3))
        >>> round(float(draws.log_likelihood(torch.zeros(3))[0, 0, 0]), 4)  # log N(0 | 0, 1)
        -0.9189
    """

    method: str
    means: torch.Tensor | None = None
    noise_variances: torch.Tensor | None = None
    probs: torch.Tensor | None = None
    parameters: dict[str, torch.Tensor] = field(default_factory=dict)
    bayesian: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        if (self.probs is None) == (self.means is None):
            raise InputError(
                "FunctionDraws needs exactly one of means (regression) and probs (classification)"
            )
        if self.means is not None:
            if self.noise_variances is None or self.noise_variances.shape != self.means.shape:
                raise InputError(f"noise_variances must have the shape of means {tuple(self.means.shape)}")
            if self.means.dim() not in (3, 4):
                raise InputError(
                    f"means must be [chain, draw, B] or [chain, draw, B, K], got {tuple(self.means.shape)}"
                )
        elif self.probs is not None and self.probs.dim() != 4:
            raise InputError(f"probs must be [chain, draw, B, K], got {tuple(self.probs.shape)}")
        lead = tuple(self.values.shape[:2])
        for name, value in self.parameters.items():
            if tuple(value.shape[:2]) != lead:
                raise InputError(
                    f"parameter draws {name!r} must start with [chain, draw] = {lead}, got {tuple(value.shape)}"
                )

    @property
    def kind(self) -> str:
        """``"regression"`` or ``"classification"``."""
        return "regression" if self.means is not None else "classification"

    @property
    def values(self) -> torch.Tensor:
        """The function values: ``means`` (regression) or ``probs`` (classification)."""
        return self.means if self.means is not None else self.probs

    @property
    def num_chains(self) -> int:
        return int(self.values.shape[0])

    @property
    def num_draws(self) -> int:
        return int(self.values.shape[1])

    @classmethod
    def from_draws(
        cls,
        draws: GaussianDraws | CategoricalDraws,
        method: str,
        *,
        num_chains: int = 1,
        parameters: dict[str, torch.Tensor] | None = None,
        bayesian: bool = True,
        note: str = "",
    ) -> FunctionDraws:
        """Split S pooled predictive draws (what ``predictive_samples`` returns) into ``num_chains`` chains.

        Arguments:
            draws: :class:`GaussianDraws` [S, B(, K)] or :class:`CategoricalDraws` [S, B, K], ordered chain by chain.
            method, bayesian, note: see the class attributes.
            num_chains: C, which must divide S.
            parameters: name -> [S, ...] parameter draws, reshaped to [C, S / C, ...] likewise.

        Returns:
            The draws with a leading chain dimension.
        """
        total = int((draws.means if isinstance(draws, GaussianDraws) else draws.probs).shape[0])
        if num_chains < 1 or total % num_chains:
            raise InputError(f"num_chains={num_chains} must divide the number of draws {total}")

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(num_chains, total // num_chains, *t.shape[1:])

        params = {k: split(v) for k, v in (parameters or {}).items()}
        if isinstance(draws, GaussianDraws):
            return cls(
                method,
                means=split(draws.means),
                noise_variances=split(draws.noise_variances),
                parameters=params,
                bayesian=bayesian,
                note=note,
            )
        return cls(method, probs=split(draws.probs), parameters=params, bayesian=bayesian, note=note)

    @classmethod
    def from_gaussian_marginals(
        cls,
        prediction: RegressionPrediction,
        num_samples: int,
        method: str,
        *,
        generator: torch.Generator | None = None,
        note: str = "",
    ) -> FunctionDraws:
        """One chain of S draws f_s(x_i) ~ N(mean_i, epistemic_i), independently per input, with noise ``aleatoric``.

        The pointwise log-likelihood, and so LOO and WAIC, needs only each input's marginal; the joint
        correlation of f across inputs is not drawn.

        Arguments:
            prediction: a Gaussian predictive (a GP's closed form).
            num_samples: S.
            method, note: see the class attributes.
            generator: the generator of the draws (on the prediction's device), or None for the global one.
        """
        mean = prediction.mean
        eps = torch.randn(
            (num_samples, *mean.shape), generator=generator, dtype=mean.dtype, device=mean.device
        )
        f = mean + prediction.epistemic.clamp_min(0).sqrt() * eps
        noise = prediction.aleatoric.expand_as(mean).unsqueeze(0).expand_as(f).clone()
        return cls.from_draws(GaussianDraws(f, noise), method, bayesian=True, note=note)

    def log_likelihood(self, y: torch.Tensor) -> torch.Tensor:
        """Pointwise log p(y_i | draw s) in nats, [C, S, B] (summed over the K outputs of a multi-output regression).

        Arguments:
            y: targets [B] (real values, or int64 class labels) or [B, K] for K regression outputs.

        Returns:
            A tensor [chain, draw, B] on the draws' device.
        """
        values = self.values
        y = y.to(values.device)
        if self.kind == "classification":
            if y.dtype != torch.int64 or tuple(y.shape) != tuple(values.shape[2:3]):
                raise InputError(
                    f"y must be int64 class labels of shape [{values.shape[2]}], got {y.dtype} {tuple(y.shape)}"
                )
            if int(y.min()) < 0 or int(y.max()) >= values.shape[-1]:
                raise InputError(f"y holds labels outside [0, {values.shape[-1] - 1}]")
            picked = values.gather(-1, y.view(1, 1, -1, 1).expand(*values.shape[:2], -1, 1)).squeeze(-1)
            return picked.clamp_min(torch.finfo(values.dtype).tiny).log()
        if tuple(y.shape) != tuple(values.shape[2:]):
            raise InputError(f"y must have shape {tuple(values.shape[2:])}, got {tuple(y.shape)}")
        var = self.noise_variances.clamp_min(torch.finfo(values.dtype).tiny)
        out = normal_log_prob(y, values, var.log())
        return out.sum(-1) if out.dim() == 4 else out

    def replicate(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """One replicated target per draw, y_rep ~ p(y | draw s): [C, S, B] labels or [C, S, B(, K)] reals.

        Arguments:
            generator: the torch generator of the draws (on the draws' device), or None for the global one.
        """
        values = self.values
        if self.kind == "classification":
            flat = values.reshape(-1, values.shape[-1])
            return torch.multinomial(flat, 1, generator=generator).reshape(values.shape[:-1])
        eps = torch.randn(values.shape, generator=generator, dtype=values.dtype, device=values.device)
        return values + self.noise_variances.sqrt() * eps
