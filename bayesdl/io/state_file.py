"""The state file format: a nested training state (a checkpoint) as tensors plus a JSON structure.

:func:`save_state` stores any nesting of dicts (with any JSON keys, so an optimizer's integer parameter ids
survive), lists and tuples whose leaves are tensors or JSON values. Tensors go into the safetensors body;
the structure, with a reference in place of each tensor, goes into the JSON header. Nothing is pickled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from . import container

STATE_FORMAT = "bayesdl-state/1"
MAX_STATE_DEPTH = 64
_TENSOR_KEY = "__tensor__"
_PAIRS_KEY = "__pairs__"
_TUPLE_KEY = "__tuple__"


def _flatten(value: Any, where: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = value
        return {_TENSOR_KEY: key}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _flatten(v, f"{where}.{k}", tensors) for k, v in value.items()}
        return {_PAIRS_KEY: [[k, _flatten(v, f"{where}.{k}", tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE_KEY: [_flatten(v, where, tensors) for v in value]}
    if isinstance(value, list):
        return [_flatten(v, where, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CheckpointError(f"cannot store {where} of type {type(value).__name__} in a checkpoint")


def _unflatten(value: Any, tensors: dict[str, torch.Tensor], depth: int = 0) -> Any:
    if depth > MAX_STATE_DEPTH:
        raise CheckpointError(f"malformed checkpoint: the state is nested more than {MAX_STATE_DEPTH} deep")
    if isinstance(value, list):
        return [_unflatten(v, tensors, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TENSOR_KEY}:
            if not isinstance(value[_TENSOR_KEY], str) or value[_TENSOR_KEY] not in tensors:
                raise CheckpointError(f"checkpoint refers to a missing tensor {value[_TENSOR_KEY]!r}")
            return tensors[value[_TENSOR_KEY]]
        if set(value) == {_PAIRS_KEY}:
            pairs = value[_PAIRS_KEY]
            if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise CheckpointError("malformed checkpoint: a key-value pair list is not a list of pairs")
            try:
                return {k: _unflatten(v, tensors, depth + 1) for k, v in pairs}
            except TypeError as err:  # an unhashable key
                raise CheckpointError(f"malformed checkpoint: {err}") from err
        if set(value) == {_TUPLE_KEY}:
            if not isinstance(value[_TUPLE_KEY], list):
                raise CheckpointError("malformed checkpoint: a tuple entry is not a list")
            return tuple(_unflatten(v, tensors, depth + 1) for v in value[_TUPLE_KEY])
        return {k: _unflatten(v, tensors, depth + 1) for k, v in value.items()}
    return value


def save_state(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Save a nested dict of tensors and JSON values (a training checkpoint) atomically, without pickle.

    Arguments:
        state: a dict whose leaves are tensors or JSON values; dicts (with any hashable JSON keys), lists
            and tuples nest. Anything else raises :class:`CheckpointError`.
        path: the file to write.

    Returns:
        The path written.

    Raises:
        CheckpointError: for a leaf that is neither a tensor nor JSON data.
        InputError: if ``path`` is a folder or cannot be written.

    Example:
        >>> import tempfile
        >>> state = {"epoch": 3, "optimizer": {0: torch.ones(2)}, "rng": (torch.zeros(1), None)}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = load_state(save_state(state, Path(tmp) / "ckpt.safetensors"))
        >>> back["epoch"], back["optimizer"][0].tolist(), type(back["rng"]).__name__
        (3, [1.0, 1.0], 'tuple')
    """
    tensors: dict[str, torch.Tensor] = {}
    structure = _flatten(state, "state", tensors)
    return container.write(path, tensors, {"format": STATE_FORMAT, "state": structure})


def load_state(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a state written by :func:`save_state`; tensors are placed on ``device``.

    Arguments:
        path: a file written by :func:`save_state`.
        device: where to put the tensors.

    Returns:
        The nested dict, with tuples, lists and non-string dict keys restored.

    Raises:
        CheckpointError: for a missing, foreign (e.g. pickle) or tampered file.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print(load_state(save_state({"step": 7}, Path(tmp) / "s.safetensors")))
        {'step': 7}
    """
    header = container.read_header(path, STATE_FORMAT)
    if "state" not in header.document:
        raise CheckpointError(f"malformed checkpoint: {header.path} holds no state")
    state = _unflatten(header.document["state"], container.read_tensors(header, device))
    if not isinstance(state, dict):
        raise CheckpointError(f"malformed checkpoint: the state in {header.path} is not a dict")
    return state
