"""Observation models p(y | f) of the variational GPs, and the checks on their targets.

* "gaussian": y = f + eps, eps ~ N(0, sigma^2), sigma^2 learned (regression);
* "probit": p(y = 1 | f) = Phi(f), a Bernoulli with the probit link, y in {0, 1} (binary classification;
  the old name "bernoulli" still works, with a DeprecationWarning);
* "softmax": p(y = c | f) = softmax(f)_c with one latent function per class (multi-class).

The names are the GP part of the shared vocabulary of :mod:`bayesdl.nn.heads.names` ("gaussian" here is the
homoscedastic Gaussian of the supervised heads, and "softmax" the GP form of "categorical"). The likelihoods are
GPyTorch's; the softmax one is subclassed only to drop GPyTorch's legacy
"batch of tasks" detection, which transposes the latent samples whenever the batch size happens
to equal the number of classes.
"""

from __future__ import annotations

from typing import Any

import gpytorch
import torch
from torch.distributions import Categorical

from ...deprecation import renamed_value
from ...errors import InputError
from ...nn.heads import GP_LIKELIHOODS, RENAMED_GP_LIKELIHOODS, GPLikelihoodName
from ...validation import check_binary, check_choice, check_labels, check_tensor

#: the GP names of the shared head vocabulary (:mod:`bayesdl.nn.heads.names`)
GPLikelihood = GPLikelihoodName
LIKELIHOODS: tuple[str, ...] = GP_LIKELIHOODS
#: old option names, still accepted with a DeprecationWarning
RENAMED_LIKELIHOODS = RENAMED_GP_LIKELIHOODS


def likelihood_name(kind: str) -> str:
    """The current name of the likelihood option ``kind`` ("bernoulli" becomes "probit", with a warning), checked.

    Arguments:
        kind: "gaussian", "probit" or "softmax" (or the deprecated "bernoulli").

    Returns:
        The checked name.

    Example:
        >>> likelihood_name("probit")
        'probit'
    """
    return str(
        check_choice(renamed_value(kind, "likelihood", RENAMED_LIKELIHOODS), "likelihood", LIKELIHOODS)
    )


class IndependentSoftmaxLikelihood(gpytorch.likelihoods.SoftmaxLikelihood):
    """p(y = c | f) = softmax(f)_c over C independent latent functions f = (f_1..f_C), no mixing weights.

    Arguments:
        num_classes: C.

    Example:
        >>> lik = IndependentSoftmaxLikelihood(3)
        >>> lik(torch.zeros(3, 3)).probs[0]
        tensor([0.3333, 0.3333, 0.3333])

    References:
        Hensman, Matthews & Ghahramani (2015), Scalable variational Gaussian process classification,
        arXiv:1411.2005 (the multi-class variational bound with Monte Carlo expectations).
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__(num_classes=num_classes, mixing_weights=False)

    def forward(self, function_samples: torch.Tensor, *params: Any, **kwargs: Any) -> Categorical:
        """p(y | f) for latent samples f.

        Arguments:
            function_samples: latent values [..., C] (the last dimension holds the C classes).
            *params, **kwargs: ignored (GPyTorch's likelihood interface).

        Returns:
            A ``torch.distributions.Categorical`` with logits f.
        """
        if function_samples.shape[-1] != self.num_classes:
            raise InputError(
                f"latent samples must end in {self.num_classes} classes, got shape {tuple(function_samples.shape)}"
            )
        return Categorical(logits=function_samples)


def make_likelihood(kind: str, num_classes: int | None = None) -> gpytorch.likelihoods.Likelihood:
    """Build the GPyTorch likelihood called ``kind`` ("gaussian", "probit" or "softmax").

    Arguments:
        kind: "gaussian" (y = f + noise, learned noise variance), "probit" (Bernoulli, probit link, y in {0, 1})
            or "softmax" (one latent function per class).
        num_classes: C >= 2, required for "softmax"; ignored otherwise.

    Returns:
        A ``gpytorch.likelihoods.Likelihood``.

    Example:
        >>> type(make_likelihood("probit")).__name__
        'BernoulliLikelihood'
        >>> make_likelihood("softmax", num_classes=4).num_classes
        4

    References:
        Rasmussen & Williams (2006), Gaussian Processes for Machine Learning, MIT Press, ch. 2-3;
        Hensman, Matthews & Ghahramani (2015), arXiv:1411.2005.
    """
    kind = likelihood_name(kind)
    if kind == "gaussian":
        return gpytorch.likelihoods.GaussianLikelihood()
    if kind == "probit":
        return gpytorch.likelihoods.BernoulliLikelihood()
    if num_classes is None or num_classes < 2:
        raise InputError(
            f"num_classes must be an integer >= 2 for the softmax likelihood, got {num_classes!r}"
        )
    return IndependentSoftmaxLikelihood(num_classes)


def num_latent_functions(kind: str, num_classes: int | None) -> int:
    """How many latent GPs the likelihood needs: C for softmax, one otherwise.

    Arguments:
        kind: "gaussian", "probit" or "softmax".
        num_classes: C, used for "softmax".

    Returns:
        The number of latent functions.

    Example:
        >>> num_latent_functions("softmax", 10), num_latent_functions("probit", None)
        (10, 1)
    """
    return int(num_classes) if kind == "softmax" else 1


def check_targets(
    y: object, kind: str, num_examples: int, num_classes: int | None = None, name: str = "y"
) -> torch.Tensor:
    """Check targets for the likelihood ``kind``: real [B] (gaussian), 0/1 [B] (probit), labels [B] (softmax).

    Arguments:
        y: the targets.
        kind: "gaussian", "probit" or "softmax".
        num_examples: B, the required length of ``y``.
        num_classes: C, for "softmax".
        name: the argument name used in error messages.

    Returns:
        The targets in the dtype the likelihood expects (float for gaussian/probit, int64 for softmax).

    Example:
        >>> check_targets(torch.tensor([0., 2.]), "softmax", 2, num_classes=3)
        tensor([0, 2])
    """
    y = check_tensor(y, name, shape=[num_examples])
    if kind == "gaussian":
        if not y.is_floating_point():
            raise InputError(
                f"{name} must be a floating-point tensor of regression targets, got dtype {y.dtype}"
            )
        return y
    if kind == "probit":
        return check_binary(y, name).float()
    return check_labels(y, name, num_examples, int(num_classes), integral_floats=True)  # type: ignore[arg-type]
