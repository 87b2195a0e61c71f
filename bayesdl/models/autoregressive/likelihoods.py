"""Old home of the autoregressive output likelihoods; MADE, NADE and PixelCNN now use :mod:`bayesdl.nn.heads`.

The old names still import from here, each with a DeprecationWarning: ``OutputLikelihood`` is
:class:`~bayesdl.nn.heads.Head`, ``BernoulliOutput`` :class:`~bayesdl.nn.heads.BernoulliHead`, ``LevelsOutput``
(and ``CategoricalOutput``) :class:`~bayesdl.nn.heads.LevelsHead`, ``GaussianOutput()``
``GaussianHead(scale="log_std")``, and ``make_likelihood`` :func:`~bayesdl.nn.heads.make_head`.
The heads take the number of event dimensions: ``head.log_prob(params, x, 1)`` for params [B, P, D] is the
log-density per example (the old ``log_prob(params, x).sum(-1)``), ``head.log_prob_elements(params, x, 1)``
the old elementwise [B, D], and ``head.sample(params, 1, generator)`` the old ``sample(params, generator)``.
"""

from __future__ import annotations

import functools
from typing import Any

from ...deprecation import renamed_value, warn_deprecated
from ...nn.heads import (
    DENSITY_HEADS,
    RENAMED_DENSITY_HEADS,
    BernoulliHead,
    DiscretizedLogisticMixture,
    GaussianHead,
    Head,
    LevelsHead,
    make_head,
)
from ...validation import check_choice

__all__ = ["LIKELIHOODS", "RENAMED_LIKELIHOODS", "DiscretizedLogisticMixture", "make_likelihood"]

LIKELIHOODS: tuple[str, ...] = DENSITY_HEADS
#: old option names, still accepted with a DeprecationWarning
RENAMED_LIKELIHOODS = RENAMED_DENSITY_HEADS

_OLD_NAMES: dict[str, tuple[Any, str]] = {
    "OutputLikelihood": (Head, "bayesdl.nn.heads.Head"),
    "BernoulliOutput": (BernoulliHead, "bayesdl.nn.heads.BernoulliHead"),
    "LevelsOutput": (LevelsHead, "bayesdl.nn.heads.LevelsHead"),
    "CategoricalOutput": (LevelsHead, "bayesdl.nn.heads.LevelsHead"),
    "GaussianOutput": (
        functools.partial(GaussianHead, scale="log_std"),
        'bayesdl.nn.heads.GaussianHead(scale="log_std")',
    ),
}


def __getattr__(name: str) -> Any:
    if name in _OLD_NAMES:
        value, new = _OLD_NAMES[name]
        warn_deprecated(f"bayesdl.models.autoregressive.{name}", new)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_likelihood(name: str, num_levels: int = 256, num_components: int = 5) -> Head:
    """Deprecated: ``bayesdl.nn.heads.make_head(name, num_levels=..., num_components=..., scale="log_std")``.

    Arguments:
        name: "bernoulli", "levels", "gaussian" (mean and log-std) or "logistic_mixture" ("categorical" is the
            deprecated name of "levels").
        num_levels: L, the number of integer levels.
        num_components: K, the mixture components.

    Returns:
        A :class:`~bayesdl.nn.heads.Head`.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     make_likelihood("levels", num_levels=4).num_params
        4
    """
    warn_deprecated(
        "bayesdl.models.autoregressive.make_likelihood(name)", "bayesdl.nn.heads.make_head(name, ...)"
    )
    name = check_choice(renamed_value(name, "likelihood", RENAMED_DENSITY_HEADS), "likelihood", DENSITY_HEADS)
    return make_head(name, num_levels=num_levels, num_components=num_components, scale="log_std")
