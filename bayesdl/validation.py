"""Argument checks shared by every public entry point.

Each check raises :class:`bayesdl.errors.InputError` with a message that names the argument and what
was expected, instead of letting a NaN or a shape mismatch surface later as an obscure failure.
Nothing is clipped or repaired silently.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import torch

from .errors import InputError


def check_tensor(
    x: object,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    nonempty: bool = True,
    finite: bool = True,
    floating: bool = False,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the expected rank/shape and (by default) finite and non-empty.

    Arguments:
        x: the value to check.
        name: the argument name used in the error message.
        ndim: the allowed number(s) of dimensions.
        shape: the expected shape; ``None`` entries match any size.
        nonempty: reject tensors with zero elements.
        finite: reject NaN and infinite values (floating tensors only).
        floating: require a floating dtype.

    Returns:
        ``x`` unchanged.

    Example:
        >>> check_tensor(torch.zeros(2, 3), "x", shape=[None, 3]).shape
        torch.Size([2, 3])
        >>> try:
        ...     check_tensor(torch.tensor([1.0, float("nan")]), "x")
        ... except InputError as err:
        ...     print(err)
        x contains NaN or infinite values
    """
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.dim() not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise InputError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if shape is not None:
        if x.dim() != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape)):
            want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
            raise InputError(f"{name} must have shape {want}, got {list(x.shape)}")
    if nonempty and x.numel() == 0:
        raise InputError(f"{name} is empty (shape {tuple(x.shape)})")
    if floating and not x.is_floating_point():
        raise InputError(
            f"{name} must be a floating-point tensor, got dtype {x.dtype}; convert it with .float()"
        )
    if finite and x.is_floating_point() and x.numel() > 0 and not _all_finite(x):
        raise InputError(f"{name} contains NaN or infinite values")
    return x


def _all_finite(x: torch.Tensor) -> bool:
    """True when no entry is NaN or infinite: the minimum and maximum propagate NaN and reach +/-inf.

    One fused reduction without temporaries, about 13x faster on a large CPU tensor than
    ``torch.isfinite(x).all()`` (which materialises several boolean tensors of x's size).
    """
    low, high = torch.aminmax(x)
    return bool(torch.isfinite(low)) and bool(torch.isfinite(high))


def check_binary(x: torch.Tensor, name: str) -> torch.Tensor:
    """Check that every entry of ``x`` is exactly 0 or 1 (as a Bernoulli likelihood requires): the one binary check.

    The common case costs one fused pass: x (1 - x) is exactly 0 only for x in {0, 1} (NaN and inf give NaN
    or -inf), about half the cost of ``((x == 0) | (x == 1)).all()``. On failure NaN and infinity are named
    before non-binary values.

    Arguments:
        x: the tensor to check.
        name: the argument name used in the error message.

    Returns:
        ``x`` unchanged; otherwise InputError quotes a few offending values and suggests binarising.

    Example:
        >>> check_binary(torch.tensor([0.0, 1.0, 1.0]), "x").tolist()
        [0.0, 1.0, 1.0]
        >>> try:
        ...     check_binary(torch.tensor([0.0, 0.5]), "x")
        ... except InputError:
        ...     print("InputError")
        InputError
    """
    if x.is_floating_point() and not bool((x * (1 - x)).any()):
        return x
    check_tensor(x, name, nonempty=False)  # NaN or infinity first
    if not bool(((x == 0) | (x == 1)).all()):
        bad = x[(x != 0) & (x != 1)].flatten()[:3].tolist()
        raise InputError(
            f"{name} must be binary (0/1) for a Bernoulli likelihood; found values such as {bad}. "
            "Binarise the data first (binarize='static' or 'dynamic')."
        )
    return x


def check_levels(x: torch.Tensor, name: str, num_levels: int) -> torch.Tensor:
    """Check that ``x`` holds integer levels 0..num_levels-1 (an integer tensor, or floats holding integers):
    the one integer-level check, for pixel intensities and dequantised data.

    Arguments:
        x: the tensor to check (finite, non-empty).
        name: the argument name used in the error message.
        num_levels: L, the number of levels.

    Returns:
        ``x`` unchanged.

    Example:
        >>> check_levels(torch.tensor([0.0, 3.0]), "x", 4).tolist()
        [0.0, 3.0]
        >>> try:
        ...     check_levels(torch.tensor([0.5]), "x", 4)
        ... except InputError as err:
        ...     print(err)
        x must hold integer levels 0..3; found non-integer values
    """
    values = x.detach()
    check_tensor(values, name)
    if values.is_floating_point() and not bool((values == values.round()).all()):
        raise InputError(f"{name} must hold integer levels 0..{num_levels - 1}; found non-integer values")
    lo, hi = float(values.min()), float(values.max())
    if lo < 0 or hi > num_levels - 1:
        raise InputError(
            f"{name} must hold integer levels 0..{num_levels - 1}, got values in [{lo:g}, {hi:g}]"
        )
    return x


def check_range(x: torch.Tensor, name: str, low: float, high: float) -> torch.Tensor:
    """Check that all entries of ``x`` lie in the closed interval [low, high].

    Arguments:
        x: a non-empty tensor.
        name: the argument name used in the error message.
        low, high: the interval's ends.

    Returns:
        ``x`` unchanged (nothing is clipped).

    Example:
        >>> try:
        ...     check_range(torch.tensor([0.2, 1.5]), "x", 0.0, 1.0)
        ... except InputError as err:
        ...     print(err)
        x must lie in [0.0, 1.0], got values in [0.2, 1.5]
    """
    lo, hi = float(x.min()), float(x.max())
    if lo < low or hi > high:
        raise InputError(f"{name} must lie in [{low}, {high}], got values in [{lo:.4g}, {hi:.4g}]")
    return x


def check_probabilities(probs: object, name: str = "probs") -> torch.Tensor:
    """Check that ``probs`` is a floating [N, C] tensor of rows that are non-negative and sum to 1 (to 1e-4).

    Arguments:
        probs: the class probabilities.
        name: the argument name used in the error message.

    Returns:
        ``probs``.

    Example:
        >>> check_probabilities(torch.tensor([[0.25, 0.75]])).shape
        torch.Size([1, 2])
        >>> try:
        ...     check_probabilities(torch.tensor([[0.5, 0.6]]), "p_cal")
        ... except InputError as err:
        ...     print(err)
        p_cal must be non-negative and sum to 1 over the last dimension
    """
    probs = check_tensor(probs, name, ndim=2, floating=True)
    if float(probs.min()) < 0 or not torch.allclose(probs.sum(-1), torch.ones_like(probs[:, 0]), atol=1e-4):
        raise InputError(f"{name} must be non-negative and sum to 1 over the last dimension")
    return probs


def check_labels(
    labels: object, name: str, num_examples: int | None, num_classes: int, *, integral_floats: bool = False
) -> torch.Tensor:
    """Check that ``labels`` holds class labels in [0, num_classes - 1]; return them as int64: the one class-label
    check (classifier heads, GP classifiers, conformal sets, recalibration, Laplace, class-conditional models).

    Arguments:
        labels: the class labels.
        name: the argument name used in the error message.
        num_examples: the expected length N of a 1-D tensor, or None for any shape.
        num_classes: C, the number of classes.
        integral_floats: also accept a floating tensor that holds integers (the GP classifiers and the
            class-conditional PixelCNN do); by default labels must have an integer dtype (not bool).

    Returns:
        ``labels`` as a ``torch.long`` tensor.

    Example:
        >>> check_labels(torch.tensor([0, 2]), "labels", 2, 3).dtype
        torch.int64
        >>> try:
        ...     check_labels(torch.tensor([0, 3]), "y_cal", 2, 3)
        ... except InputError as err:
        ...     print(err)
        y_cal must hold class labels in 0..2, got values in [0, 3]
    """
    labels = (
        check_tensor(labels, name)
        if num_examples is None
        else check_tensor(labels, name, shape=[num_examples])
    )
    if (
        labels.dtype == torch.bool
        or labels.is_complex()
        or (labels.is_floating_point() and not (integral_floats and bool((labels == labels.round()).all())))
    ):
        raise InputError(
            f"{name} must hold integer class labels in 0..{num_classes - 1}, got dtype {labels.dtype}"
            + (" with non-integer values" if integral_floats and labels.is_floating_point() else "")
        )
    if labels.numel():
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            raise InputError(
                f"{name} must hold class labels in 0..{num_classes - 1}, got values in [{lo}, {hi}]"
            )
    return labels.long()


def check_positive_int(value: object, name: str, minimum: int = 1) -> int:
    """Check that ``value`` is an integer no smaller than ``minimum`` and return it.

    Arguments:
        value: the value to check (booleans are rejected).
        name: the argument name used in the error message.
        minimum: the smallest allowed value.

    Returns:
        ``value``.

    Example:
        >>> check_positive_int(3, "n")
        3
        >>> try:
        ...     check_positive_int(2.0, "n")
        ... except InputError as err:
        ...     print(err)
        n must be an integer >= 1, got 2.0
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_positive_float(value: object, name: str, *, tensor: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 and return it as a float: the one positive-number check.

    Any real number is accepted (a Python or NumPy integer or float); booleans and strings are not.

    Arguments:
        value: the value to check.
        name: the argument name used in the error message.
        tensor: also accept a one-element real tensor (its value is checked and returned).

    Returns:
        ``value`` as a float.

    Example:
        >>> check_positive_float(0.5, "lr")
        0.5
        >>> check_positive_float(torch.tensor(2.0), "sigma", tensor=True)
        2.0
        >>> try:
        ...     check_positive_float(0, "prior_precision")
        ... except InputError as err:
        ...     print(err)
        prior_precision must be a finite number > 0, got 0
    """
    if (
        tensor
        and isinstance(value, torch.Tensor)
        and value.numel() == 1
        and not value.is_complex()
        and value.dtype != torch.bool
    ):
        value = value.item()
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or value <= 0
    ):
        raise InputError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_choice(value: object, name: str, choices: Sequence[object]) -> object:
    """Check that ``value`` is one of ``choices``.

    Arguments:
        value: the value to check.
        name: what the value is, used in the error message.
        choices: the allowed values.

    Returns:
        ``value``.

    Example:
        >>> try:
        ...     check_choice("adam2", "optimizer", ["adam", "sgd"])
        ... except InputError as err:
        ...     print(err)
        unknown optimizer 'adam2'; expected one of ['adam', 'sgd']
    """
    if value not in choices:
        raise InputError(f"unknown {name} {value!r}; expected one of {list(choices)}")
    return value


_CHECKED_DATA: ContextVar[torch.Tensor | tuple[torch.Tensor, ...] | None] = ContextVar(
    "bayesdl_checked_data", default=None
)


@contextmanager
def checked_data(x: torch.Tensor | tuple[torch.Tensor, ...]) -> Iterator[None]:
    """Declare that the values of this very tensor object (or of each tensor of this tuple) were validated already.

    The trainer checks the whole training data once with the model's ``check_data`` and then runs
    each minibatch step inside ``checked_data(batch)``; a model's per-call data check may return early
    when :func:`is_checked` holds for its argument. Only the same objects are trusted (not a copy, a
    slice or another tensor), so data a model derives or receives otherwise are still checked.
    """
    token = _CHECKED_DATA.set(x)
    try:
        yield
    finally:
        _CHECKED_DATA.reset(token)


def is_checked(x: torch.Tensor) -> bool:
    """True inside ``checked_data(x)`` (or ``checked_data((..., x, ...))``) for the same tensor object ``x``."""
    checked = _CHECKED_DATA.get()
    return checked is x or (type(checked) is tuple and any(t is x for t in checked))
