"""Deprecations: renamed constructor keywords and option values keep working, with a ``DeprecationWarning``.

:func:`renamed_arguments` maps old keyword names (``hidden_dims`` -> ``hidden_sizes``) and old option values
(``likelihood="categorical"`` -> ``"levels"``) to the new ones before the constructor runs, so the
configuration that :func:`bayesdl.save` stores holds only the new names, and a checkpoint written before
the rename (whose stored configuration still has the old names) loads with a warning.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import InputError

__all__ = ["renamed_arguments", "renamed_value", "sample_call_forms", "upgrade_config", "warn_deprecated"]

T = TypeVar("T")


def warn_deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Emit the one form of deprecation message: ``"<old> is deprecated; use <new>"``.

    Arguments:
        old, new: the old and the new spelling, as the user would write them.
        stacklevel: the frame the warning points at (3: the caller of the deprecated function).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_deprecated("f(a)", "g(a)", stacklevel=1)
        >>> print(caught[0].message)
        f(a) is deprecated; use g(a)
    """
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=stacklevel)


def renamed_value(value: Any, name: str, aliases: Mapping[str, str], stacklevel: int = 3) -> Any:
    """``aliases[value]`` with a deprecation warning when ``value`` is an old option name, else ``value``.

    Arguments:
        value: the option value as given.
        name: the argument's name, for the message.
        aliases: old value -> new value.
        stacklevel: the frame the warning points at.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     renamed_value("categorical", "likelihood", {"categorical": "levels"})
        'levels'
        >>> print(caught[0].message)
        likelihood='categorical' is deprecated; use likelihood='levels'
    """
    if isinstance(value, str) and value in aliases:
        warn_deprecated(f"{name}={value!r}", f"{name}={aliases[value]!r}", stacklevel=stacklevel + 1)
        return aliases[value]
    return value


def renamed_arguments(
    keywords: Mapping[str, str] | None = None, values: Mapping[str, Mapping[str, str]] | None = None
) -> Callable[[T], T]:
    """Class decorator: accept old keyword names and old option values of the constructor, with a warning.

    Put it above ``@serializable`` so that the stored configuration records the new names.

    Arguments:
        keywords: old keyword -> new keyword.
        values: keyword (new name) -> {old value -> new value}.

    Example:
        >>> import warnings
        >>> @renamed_arguments(keywords={"hidden_dims": "hidden_sizes"}, values={"kind": {"old": "new"}})
        ... class Net:
        ...     def __init__(self, hidden_sizes=(), kind="new"):
        ...         self.hidden_sizes, self.kind = hidden_sizes, kind
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     net = Net(hidden_dims=[4], kind="old")
        >>> net.hidden_sizes, net.kind
        ([4], 'new')
    """
    keywords = dict(keywords or {})
    values = {k: dict(v) for k, v in (values or {}).items()}

    def decorate(cls: T) -> T:
        init = cls.__init__  # type: ignore[misc]
        positional = [n for n in inspect.signature(init).parameters][1:]  # without self

        @functools.wraps(init)
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
            for old, new in keywords.items():
                if old in kwargs:
                    if new in kwargs:
                        raise InputError(
                            f"{cls.__name__} got both {old!r} (deprecated) and {new!r}; pass only {new!r}"
                        )
                    warn_deprecated(f"{cls.__name__}({old}=...)", f"{new}=...")
                    kwargs[new] = kwargs.pop(old)
            args = list(args)
            for key, aliases in values.items():
                if key in kwargs:
                    kwargs[key] = renamed_value(kwargs[key], key, aliases)
                elif key in positional and positional.index(key) < len(args):
                    i = positional.index(key)
                    args[i] = renamed_value(args[i], key, aliases)
            init(self, *args, **kwargs)

        cls.__init__ = wrapped  # type: ignore[misc]
        cls._renamed_arguments = {"keywords": keywords, "values": values}  # type: ignore[attr-defined]
        return cls

    return decorate


def sample_call_forms(*old_positional: str, old_count: str | None = "n") -> Callable[[T], T]:
    """Method decorator for ``sample(num_samples, *, ..., seed=None, generator=None)``: the old call forms keep
    working with a ``DeprecationWarning``.

    Arguments:
        old_positional: the names, in order, of the arguments that used to be accepted by position after the
            number of samples (now keyword-only).
        old_count: the old name of the number of samples (``n``), or None.

    Example:
        >>> import warnings
        >>> class Model:
        ...     @sample_call_forms("mean", "seed")
        ...     def sample(self, num_samples, *, mean=True, seed=None):
        ...         return num_samples, mean, seed
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     Model().sample(3, False, 7), Model().sample(n=2)
        ((3, False, 7), (2, True, None))
        >>> print(caught[0].message)
        Model.sample(num_samples, mean, seed) is deprecated; use Model.sample(num_samples, mean=..., seed=...)
    """

    def decorate(method: T) -> T:
        name = method.__qualname__  # type: ignore[attr-defined]

        @functools.wraps(method)  # type: ignore[arg-type]
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            if old_count is not None and old_count in kwargs:
                if args or "num_samples" in kwargs:
                    raise InputError(f"{name} got the number of samples twice; pass only num_samples")
                warn_deprecated(f"{name}({old_count}=...)", f"{name}(num_samples=...)")
                args = (kwargs.pop(old_count),)
            if len(args) > 1:
                extra = args[1:]
                if len(extra) > len(old_positional):
                    raise TypeError(
                        f"{name} takes 1 positional argument (num_samples) but {len(args)} were given"
                    )
                names = old_positional[: len(extra)]
                twice = [n for n in names if n in kwargs]
                if twice:
                    raise InputError(f"{name} got {twice} both by position and by keyword")
                warn_deprecated(
                    f"{name}(num_samples, {', '.join(names)})",
                    f"{name}(num_samples, {', '.join(n + '=...' for n in names)})",
                )
                kwargs.update(zip(names, extra))
                args = args[:1]
            return method(self, *args, **kwargs)  # type: ignore[operator]

        return wrapped  # type: ignore[return-value]

    return decorate


def upgrade_config(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """A stored constructor config with the old keyword names and option values of ``cls`` replaced by the new ones.

    :func:`bayesdl.load` calls it before it checks a stored config against the constructor, so a checkpoint
    written before a rename still loads (silently: the file is not the user's code to fix).

    Arguments:
        cls: the class, decorated with :func:`renamed_arguments` or not (then the config is returned as is).
        config: keyword -> value, as stored.

    Returns:
        A new dict with the current names.

    Example:
        >>> @renamed_arguments(keywords={"hidden_dims": "hidden_sizes"}, values={"kind": {"old": "new"}})
        ... class Net:
        ...     def __init__(self, hidden_sizes=(), kind="new"): ...
        >>> upgrade_config(Net, {"hidden_dims": [4], "kind": "old"})
        {'hidden_sizes': [4], 'kind': 'new'}
    """
    renames = getattr(cls, "_renamed_arguments", None)
    if not renames:
        return dict(config)
    upgraded = {}
    for key, value in config.items():
        new = renames["keywords"].get(key, key)
        upgraded[key if new in config and new != key else new] = (
            value  # both names stored: leave it to the constructor
        )
    for key, aliases in renames["values"].items():
        value = upgraded.get(key)
        if isinstance(value, str) and value in aliases:
            upgraded[key] = aliases[value]
    return upgraded
