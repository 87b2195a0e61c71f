"""Old home of the supervised likelihood heads; they now live in :mod:`bayesdl.nn.heads` with every other head.

The old names stay importable from here: ``CategoricalLikelihood`` is :class:`~bayesdl.nn.heads.CategoricalHead`,
``HeteroscedasticGaussian`` and ``HomoscedasticGaussian`` are the Gaussian heads of that package, ``Likelihood``
is :class:`~bayesdl.nn.heads.Head`. Files saved with them load unchanged (the registry keys did not change).
:func:`make_likelihood` is deprecated in favour of :func:`bayesdl.nn.heads.make_head`.
"""

from __future__ import annotations

import torch

from ..densities import normal_log_prob
from ..deprecation import warn_deprecated
from ..nn.heads import (
    SUPERVISED_HEADS,
    CategoricalHead,
    Head,
    HeteroscedasticGaussianHead,
    HomoscedasticGaussianHead,
    make_head,
)
from ..validation import check_choice

__all__ = [
    "LIKELIHOODS",
    "CategoricalLikelihood",
    "HeteroscedasticGaussian",
    "HomoscedasticGaussian",
    "Likelihood",
    "gaussian_nll_from_log_var",
    "make_likelihood",
]

Likelihood = Head
CategoricalLikelihood = CategoricalHead
HeteroscedasticGaussian = HeteroscedasticGaussianHead
HomoscedasticGaussian = HomoscedasticGaussianHead
LIKELIHOODS = SUPERVISED_HEADS


def gaussian_nll_from_log_var(mean: torch.Tensor, log_var: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Elementwise -log N(y | mean, exp(log_var)): the negative of :func:`bayesdl.densities.normal_log_prob`.

    Arguments:
        mean: predictive means, any shape.
        log_var: log noise variances, broadcastable to ``mean``.
        y: targets, broadcastable to ``mean``.

    Returns:
        The NLL in nats per element, of the broadcast shape.

    Example:
        >>> round(gaussian_nll_from_log_var(torch.zeros(1), torch.zeros(1), torch.zeros(1)).item(), 4)
        0.9189
    """
    return -normal_log_prob(y, mean, log_var)


def make_likelihood(name: str, num_outputs: int, noise_std: float = 1.0, learn_noise: bool = True) -> Head:
    """Deprecated: ``make_head(name, num_outputs=num_outputs, noise_std=..., learn_noise=...)``.

    Arguments:
        name: "categorical", "heteroscedastic" or "homoscedastic".
        num_outputs: the width of the network's output layer; a mismatch raises InputError.
        noise_std: the initial (or fixed) noise sd of the homoscedastic head.
        learn_noise: learn the homoscedastic noise sd.

    Returns:
        A :class:`~bayesdl.nn.heads.Head`.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     type(make_likelihood("heteroscedastic", 2)).__name__
        'HeteroscedasticGaussianHead'
    """
    warn_deprecated(
        "bayesdl.models.likelihoods.make_likelihood(name, num_outputs)",
        "bayesdl.nn.heads.make_head(name, num_outputs=...)",
    )
    check_choice(name, "likelihood", SUPERVISED_HEADS)
    return make_head(name, num_outputs=num_outputs, noise_std=noise_std, learn_noise=learn_noise)
