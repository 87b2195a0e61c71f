"""Old home of the VAE decoder likelihoods; the decoders now use the heads of :mod:`bayesdl.nn.heads`.

The old names stay importable from here and from :mod:`bayesdl.models.vae`: ``Likelihood`` is
:class:`~bayesdl.nn.heads.Head`, ``BernoulliLikelihood`` :class:`~bayesdl.nn.heads.BernoulliHead`,
``GaussianLikelihood`` :class:`~bayesdl.nn.heads.GaussianHead`; ``CategoricalLikelihood`` (256 levels per
pixel, option ``"levels"``) is :class:`~bayesdl.nn.heads.LevelsHead` and warns, since "categorical" now means
class labels everywhere. Files saved with them load unchanged (the
registry keys did not change). :func:`make_likelihood` is deprecated in favour of
:func:`bayesdl.nn.heads.make_head`.
"""

from __future__ import annotations

from typing import Any, Literal

from ...deprecation import renamed_value, warn_deprecated
from ...errors import InputError
from ...nn.heads import RENAMED_DENSITY_HEADS, BernoulliHead, GaussianHead, Head, LevelsHead, make_head

__all__ = [
    "LIKELIHOODS",
    "RENAMED_LIKELIHOODS",
    "BernoulliLikelihood",
    "DecoderLikelihood",
    "GaussianLikelihood",
    "Likelihood",
    "make_likelihood",
]

Likelihood = Head
BernoulliLikelihood = BernoulliHead
GaussianLikelihood = GaussianHead

#: the head names a VAE decoder accepts ("gaussian": a learned per-dimension scale; "levels": 256 levels)
DecoderLikelihood = Literal["bernoulli", "gaussian", "levels"]
LIKELIHOODS = {"bernoulli": BernoulliHead, "gaussian": GaussianHead, "levels": LevelsHead}
#: old option names, still accepted with a DeprecationWarning
RENAMED_LIKELIHOODS = RENAMED_DENSITY_HEADS


def __getattr__(name: str) -> Any:
    if name == "CategoricalLikelihood":
        warn_deprecated("bayesdl.models.vae.CategoricalLikelihood", "bayesdl.nn.heads.LevelsHead")
        return LevelsHead
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def decoder_head(likelihood: DecoderLikelihood | Head) -> Head:
    """The head of a VAE decoder from a name ("bernoulli", "gaussian" (learned scale), "levels" (256 levels)) or a head.

    Arguments:
        likelihood: the name, or a :class:`~bayesdl.nn.heads.Head` (returned as is).

    Returns:
        The head; an unknown name raises InputError.

    Example:
        >>> type(decoder_head("levels")).__name__
        'LevelsHead'
    """
    if isinstance(likelihood, Head):
        return likelihood
    if likelihood not in LIKELIHOODS:
        raise InputError(f"unknown likelihood {likelihood!r}; expected one of {list(LIKELIHOODS)} or a Head")
    return make_head(likelihood)


def make_likelihood(likelihood: DecoderLikelihood | Head) -> Head:
    """Deprecated: ``bayesdl.nn.heads.make_head(likelihood)``.

    Arguments:
        likelihood: the name ("categorical" is the deprecated name of "levels") or a head.

    Returns:
        The head.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     type(make_likelihood("categorical")).__name__  # the old name of "levels"
        'LevelsHead'
    """
    warn_deprecated(
        "bayesdl.models.vae.likelihoods.make_likelihood(name)", "bayesdl.nn.heads.make_head(name)"
    )
    return decoder_head(renamed_value(likelihood, "likelihood", RENAMED_DENSITY_HEADS))
