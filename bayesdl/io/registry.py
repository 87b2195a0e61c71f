"""The registry of classes that :func:`bayesdl.load` may rebuild, keyed by stable names.

A class enters the registry only through the :func:`serializable` decorator. A saved file names its class
by the registry key, and :func:`resolve` looks that key up; nothing named by a file is ever imported.

Keys do not depend on where a class lives. A bayesdl class is keyed by its ``__qualname__`` (``"RBM"``,
``"MLP"``) or by the ``name=`` given to the decorator, so it can move between modules without breaking
files. A class defined outside bayesdl is keyed by ``module.qualname`` unless it is given a ``name=``.
Files written before the keys were stable name classes by their full dotted path; the alias table in
:mod:`bayesdl.io.aliases` maps each such path to its key.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ..errors import CheckpointError
from .aliases import LEGACY_CLASS_NAMES

T = TypeVar("T", bound=type)

_REGISTRY: dict[str, type] = {}

# The packages whose modules define every serializable bayesdl class. :func:`resolve` imports all their
# modules (and nothing else) before it gives up on a key; none of them has import-time side effects.
# bayesdl.__main__, bayesdl.cli and bayesdl.experiments are deliberately absent.
_MODEL_PACKAGES = ("bayesdl.nn", "bayesdl.models")
_populated = False


@overload
def serializable(cls: T, /) -> T: ...
@overload
def serializable(*, name: str | None = None) -> Callable[[T], T]: ...


def serializable(cls: T | None = None, /, *, name: str | None = None) -> T | Callable[[T], T]:
    """Class decorator: record the constructor arguments so that :func:`save`/:func:`load` can rebuild it.

    The arguments, bound to the signature with defaults applied, are kept in ``obj.config``.

    Arguments:
        cls: a class (normally a ``torch.nn.Module``) whose constructor arguments are JSON values or other
            @serializable modules.
        name: the stable registry key written into files. Default: the class's ``__qualname__`` for
            bayesdl classes, ``module.qualname`` for classes defined elsewhere.

    Returns:
        The same class, with a recording ``__init__``, a ``config`` property, and an entry in the registry
        of classes that :func:`load` may rebuild.

    Raises:
        ValueError: if the key is already taken by a different class (two bayesdl classes with one name).

    Example:
        >>> import torch
        >>> @serializable
        ... class Tiny(torch.nn.Module):
        ...     def __init__(self, width: int = 3):
        ...         super().__init__()
        ...         self.lin = torch.nn.Linear(width, 1)
        >>> Tiny(width=2).config
        {'width': 2}
    """
    if cls is None:
        return functools.partial(_register, name=name)  # type: ignore[return-value]
    return _register(cls, name=name)


def _register(cls: T, name: str | None = None) -> T:
    init = cls.__init__
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
        if not hasattr(self, "_bayesdl_config_owner"):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            config = dict(bound.arguments)
            config.pop("self")
            for param_name, param in signature.parameters.items():
                if param.kind is inspect.Parameter.VAR_KEYWORD and param_name in config:
                    config.update(config.pop(param_name))
            object.__setattr__(self, "_bayesdl_config_owner", cls)
            object.__setattr__(self, "_bayesdl_config", config)
        init(self, *args, **kwargs)

    cls.__init__ = wrapped  # type: ignore[method-assign]
    cls.config = property(  # type: ignore[attr-defined]
        lambda self: dict(self._bayesdl_config),
        doc="The constructor arguments (defaults applied) that :func:`bayesdl.save` stores; a copy.",
    )
    key = name or _default_key(cls)
    previous = _REGISTRY.get(key)
    if previous is not None and _full_name(previous) != _full_name(cls):
        raise ValueError(
            f"serializable name {key!r} of {_full_name(cls)} is already used by {_full_name(previous)}; "
            "pass @serializable(name=...) to give one of them another stable name"
        )
    _REGISTRY[key] = cls  # re-registering the same module.qualname (a reload) replaces the old class
    cls._bayesdl_key = key  # type: ignore[attr-defined]
    return cls


def _full_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _default_key(cls: type) -> str:
    if cls.__module__ == "bayesdl" or cls.__module__.startswith("bayesdl."):
        return cls.__qualname__
    return _full_name(cls)


def class_key(cls: type) -> str | None:
    """The registry key under which ``cls`` is saved, or None if it is not @serializable."""
    key = cls.__dict__.get("_bayesdl_key")
    return key if isinstance(key, str) and _REGISTRY.get(key) is cls else None


def _populate() -> None:
    """Import every module of bayesdl's model packages once, so that their classes are registered."""
    global _populated
    if _populated:
        return
    for package_name in _MODEL_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            importlib.import_module(info.name)
    _populated = True


def resolve(name: Any) -> type:
    """The registered class for a key (or a legacy full class name) read from a file.

    Arguments:
        name: the class name as stored in the file; any JSON value.

    Returns:
        The registered class.

    Raises:
        CheckpointError: if ``name`` is not a string naming a registered class. Nothing named by the file
            is imported; only bayesdl's own model packages are, to fill the registry.
    """
    if not isinstance(name, str):
        raise CheckpointError(f"malformed checkpoint: the class must be a string, not {type(name).__name__}")
    key = LEGACY_CLASS_NAMES.get(name, name)
    if key not in _REGISTRY:
        _populate()
    if key not in _REGISTRY:
        raise CheckpointError(
            f"unknown or unsafe class {name!r} in checkpoint; only @serializable classes load "
            "(import the module that defines a class of your own before calling load)"
        )
    return _REGISTRY[key]


def registered_classes() -> dict[str, type]:
    """The classes that :func:`load` may rebuild, by stable key.

    Only classes whose modules have been imported are listed.

    Returns:
        A copy of the registry: key -> class.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> registered_classes()["MLP"] is MLP
        True
    """
    return dict(_REGISTRY)
