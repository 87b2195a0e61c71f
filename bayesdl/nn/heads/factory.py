"""``make_head``: the one factory of output heads, by name."""

from __future__ import annotations

from ...errors import InputError
from ...validation import check_choice
from .base import Head
from .bernoulli import BernoulliHead
from .categorical import CategoricalHead, LevelsHead
from .gaussian import GaussianHead, HeteroscedasticGaussianHead, HomoscedasticGaussianHead, ScaleOutput
from .logistic_mixture import DiscretizedLogisticMixture
from .names import DENSITY_HEADS, GP_LIKELIHOODS, SUPERVISED_HEADS, HeadName

_HEADS = tuple(dict.fromkeys(DENSITY_HEADS + SUPERVISED_HEADS))


def make_head(
    name: HeadName | str | Head,
    *,
    num_outputs: int | None = None,
    num_classes: int | None = None,
    num_levels: int = 256,
    num_components: int = 5,
    scale: float | ScaleOutput | None = None,
    min_scale: float = 1e-3,
    noise_std: float = 1.0,
    learn_noise: bool = True,
) -> Head:
    """Build an output head by name (see :mod:`bayesdl.nn.heads.names` for the vocabulary), or pass one through.

    Arguments:
        name: "bernoulli", "levels", "logistic_mixture", "gaussian", "categorical", "heteroscedastic" or
            "homoscedastic" (a :class:`HeadName` member or its string), or a :class:`Head`, returned as is.
            "probit" and "softmax" name GPyTorch likelihoods: build those with
            :func:`bayesdl.models.gp.make_likelihood`.
        num_outputs: if given, the network's outputs per dimension; a head that needs another number raises
            InputError (for "categorical" it is also the default number of classes).
        num_classes: C, for "categorical".
        num_levels: L, for "levels" and "logistic_mixture".
        num_components: K, for "logistic_mixture".
        scale: for "gaussian": a fixed sd, or how the net emits it ("softplus" (default), "log_std", "log_var").
        min_scale: for "gaussian" with "softplus", the floor of the sd.
        noise_std, learn_noise: for "homoscedastic", the initial (or fixed) noise sd and whether it is learned.

    Returns:
        A :class:`Head`.

    Example:
        >>> make_head("levels", num_levels=4).num_params
        4
        >>> type(make_head("heteroscedastic", num_outputs=2)).__name__
        'HeteroscedasticGaussianHead'
        >>> make_head(HeadName.CATEGORICAL, num_outputs=10).num_classes
        10
    """
    if isinstance(name, Head):
        head = name
    else:
        if isinstance(name, HeadName):
            name = name.value
        if name in GP_LIKELIHOODS and name not in _HEADS:
            raise InputError(
                f"head {name!r} is a GP likelihood; build it with bayesdl.models.gp.make_likelihood"
            )
        name = check_choice(name, "likelihood", _HEADS)
        if name == "bernoulli":
            head = BernoulliHead()
        elif name == "levels":
            head = LevelsHead(num_levels)
        elif name == "logistic_mixture":
            head = DiscretizedLogisticMixture(num_components, num_levels)
        elif name == "gaussian":
            head = GaussianHead(scale, min_scale)
        elif name == "categorical":
            classes = num_classes if num_classes is not None else num_outputs
            if classes is None:
                raise InputError("a categorical head needs num_classes (or num_outputs)")
            head = CategoricalHead(classes)
        elif name == "heteroscedastic":
            head = HeteroscedasticGaussianHead()
        else:
            head = HomoscedasticGaussianHead(noise_std, learn_noise)
    if num_outputs is not None and num_outputs != head.num_params:
        raise InputError(
            f"a {name if isinstance(name, str) else type(head).__name__} head needs a network with "
            f"{head.num_params} output(s), got {num_outputs}"
        )
    return head
