"""Experiment settings: a dataclass per experiment, one preset per run size, and ``--set key=value`` overrides.

An experiment that takes settings registers a dataclass whose class method ``preset(size)`` returns the
settings for ``size`` in ``("smoke", "quick", "full")``. ``bayesdl run NAME --set epochs=5 --set
model.hidden=256`` replaces fields of that preset; nested dataclasses are reached with dotted keys. Values
are converted to the field's declared type (``int``, ``float``, ``bool``, ``str``, a tuple or list of those
written as ``8,16``, or ``None`` where the type allows it); a key that names no field is refused with the
list of valid keys, before any run folder is made.

This module imports nothing heavy, so the command line can check overrides before torch is loaded.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InputError

RunSize = Literal["smoke", "quick", "full"]


def run_size(quick: bool, smoke: bool) -> RunSize:
    """The size name of a run: ``"smoke"`` wins over ``"quick"``, and neither is ``"full"``.

    Example:
        >>> run_size(quick=True, smoke=False), run_size(False, True), run_size(False, False)
        ('quick', 'smoke', 'full')
    """
    return "smoke" if smoke else "quick" if quick else "full"


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["epochs=5", "model.hidden=256"]`` as ``{"epochs": "5", "model.hidden": "256"}``.

    Raises:
        InputError: for an item without ``=``, with an empty key, or a key given twice.

    Example:
        >>> parse_assignments(["epochs=5", "model.hidden = 256"])
        {'epochs': '5', 'model.hidden': '256'}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--set expects KEY=VALUE (for example epochs=5); got {item!r}")
        if key in out:
            raise InputError(f"--set gives {key!r} twice")
        out[key] = value.strip()
    return out


def setting_keys(config: Any, prefix: str = "") -> list[str]:
    """Every settable dotted key of a settings dataclass instance, nested dataclasses expanded.

    Example:
        >>> @dataclasses.dataclass
        ... class Model:
        ...     hidden: int = 8
        >>> @dataclasses.dataclass
        ... class Settings:
        ...     epochs: int = 2
        ...     model: Model = dataclasses.field(default_factory=Model)
        >>> setting_keys(Settings())
        ['epochs', 'model.hidden']
    """
    keys = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            keys += setting_keys(value, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def convert(text: str, tp: Any, key: str) -> Any:
    """``text`` converted to the type ``tp`` of setting ``key``.

    Raises:
        InputError: naming the key, the expected type and the text when it does not convert.

    Example:
        >>> convert("256", int, "hidden"), convert("1e-3", float, "lr"), convert("off", bool, "flag")
        (256, 0.001, False)
        >>> convert("32,32", tuple[int, ...], "hidden"), convert("none", int | None, "limit")
        ((32, 32), None)
    """
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and text.lower() in ("none", "null"):
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return convert(text, option, key)
            except InputError as err:
                errors.append(str(err))
        raise InputError(
            errors[0] if len(errors) == 1 else f"setting {key!r}: cannot read {text!r} as {_type_name(tp)}"
        )
    if origin is Literal:
        for option in args:
            if str(option) == text:
                return option
        raise InputError(f"setting {key!r} must be one of {list(args)}; got {text!r}")
    if origin in (tuple, list):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        item_type = args[0] if args else str
        values = [convert(p, item_type, key) for p in parts]
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(values):
                raise InputError(f"setting {key!r} expects {len(args)} comma-separated values; got {text!r}")
            values = [convert(p, a, key) for p, a in zip(parts, args)]
        return tuple(values) if origin is tuple else values
    if tp is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise InputError(f"setting {key!r} expects true or false; got {text!r}")
    if tp in (int, float, str):
        try:
            value = tp(text)
        except ValueError:
            raise InputError(f"setting {key!r} expects {tp.__name__}; got {text!r}") from None
        return value
    raise InputError(f"setting {key!r} has type {_type_name(tp)}, which --set cannot write")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def apply_overrides(config: Any, overrides: Mapping[str, str], experiment: str = "the experiment") -> Any:
    """A copy of the settings dataclass ``config`` with ``overrides`` (dotted key -> text) applied.

    Arguments:
        config: a dataclass instance (the preset of a run size).
        overrides: from :func:`parse_assignments`.
        experiment: the experiment's name, for error messages.

    Returns:
        A new dataclass instance; ``config`` is left unchanged.

    Raises:
        InputError: for a key that names no setting (the message lists the valid keys) or a value that
            does not convert to the setting's type.

    Example:
        >>> @dataclasses.dataclass
        ... class Settings:
        ...     epochs: int = 2
        ...     hidden: tuple[int, ...] = (8,)
        >>> apply_overrides(Settings(), {"epochs": "5", "hidden": "16,16"})
        Settings(epochs=5, hidden=(16, 16))
        >>> try:
        ...     apply_overrides(Settings(), {"epoch": "5"}, "demo")
        ... except InputError as err:
        ...     print(err)
        demo has no setting 'epoch'; valid keys: epochs, hidden
    """
    valid = setting_keys(config)
    for key in overrides:
        if key not in valid:
            raise InputError(f"{experiment} has no setting {key!r}; valid keys: {', '.join(valid)}")
    return _replace(config, overrides, "")


def _replace(config: Any, overrides: Mapping[str, str], prefix: str) -> Any:
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        key = prefix + f.name
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            if any(k.startswith(key + ".") for k in overrides):
                changes[f.name] = _replace(value, overrides, key + ".")
        elif key in overrides:
            changes[f.name] = convert(overrides[key], typing.get_type_hints(type(config))[f.name], key)
    return dataclasses.replace(config, **changes)


@dataclass(frozen=True)
class NutsSettings:
    """The settings every NUTS experiment has; an experiment subclasses it to give its ``preset(size)``.

    Attributes:
        chains: NUTS chains, run as one batch.
        warmup: warm-up (adaptation) iterations per chain.
        draws: kept draws per chain.
    """

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
