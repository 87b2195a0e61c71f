"""Saving and loading models and training state without pickle.

A saved model is one safetensors file: the tensors of ``state_dict()`` plus, in the safetensors
metadata, a JSON document with the class name and the constructor arguments. Loading parses JSON
and raw tensor bytes only, so a file from someone else cannot run code; a pickle (``torch.save``)
file, or anything else that is not in this format, is refused with :class:`CheckpointError`
before any of its content is interpreted.

Only classes marked with :func:`serializable` can be rebuilt. Constructor arguments may be JSON
values (numbers, strings, booleans, None, lists, dicts with string keys) or other serializable
modules, which are stored recursively.

Files are written to a temporary file in the target folder and renamed into place, so a crash or
an error never leaves a half-written file under the final name.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_dumps

from .errors import CheckpointError

MODEL_FORMAT = "bayesdl-model/1"
STATE_FORMAT = "bayesdl-state/1"
_REGISTRY: dict[str, type] = {}
_MODULE_KEY = "__bayesdl_module__"
_TENSOR_KEY = "__tensor__"
_PAIRS_KEY = "__pairs__"
_TUPLE_KEY = "__tuple__"

T = TypeVar("T", bound=type)


def serializable(cls: T) -> T:
    """Class decorator: record the constructor arguments so that :func:`save`/:func:`load` can rebuild it.

    The arguments, bound to the signature with defaults applied, are kept in ``obj.config``.

    Arguments:
        cls: a class (normally a ``torch.nn.Module``) whose constructor arguments are JSON values or other
            @serializable modules.

    Returns:
        The same class, with a recording ``__init__``, a ``config`` property, and an entry in the registry
        of classes that :func:`load` may rebuild.

    Example:
        >>> @serializable
        ... class Tiny(torch.nn.Module):
        ...     def __init__(self, width: int = 3):
        ...         super().__init__()
        ...         self.lin = torch.nn.Linear(width, 1)
        >>> Tiny(width=2).config
        {'width': 2}
    """
    init = cls.__init__
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapped(self, *args: Any, **kwargs: Any) -> None:
        if not hasattr(self, "_bayesdl_config_owner"):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            config = dict(bound.arguments)
            config.pop("self")
            for name, param in signature.parameters.items():
                if param.kind is inspect.Parameter.VAR_KEYWORD and name in config:
                    config.update(config.pop(name))
            object.__setattr__(self, "_bayesdl_config_owner", cls)
            object.__setattr__(self, "_bayesdl_config", config)
        init(self, *args, **kwargs)

    cls.__init__ = wrapped  # type: ignore[method-assign]
    cls.config = property(  # type: ignore[attr-defined]
        lambda self: dict(self._bayesdl_config),
        doc="The constructor arguments (defaults applied) that :func:`bayesdl.save` stores; a copy.",
    )
    _REGISTRY[_class_name(cls)] = cls
    return cls


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _encode_config(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_encode_config(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return {_TUPLE_KEY: items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CheckpointError(f"cannot save {where}: dict keys must be strings")
        return {k: _encode_config(v, f"{where}.{k}") for k, v in value.items()}
    if hasattr(value, "_bayesdl_config"):
        cls = type(value)
        if _class_name(cls) not in _REGISTRY:
            raise CheckpointError(f"cannot save {where}: class {_class_name(cls)} is not @serializable")
        return {_MODULE_KEY: {"class": _class_name(cls), "config": _encode_config(value._bayesdl_config, where)}}
    raise CheckpointError(
        f"cannot save {where}: a constructor argument of type {type(value).__name__} is not JSON data "
        "or a @serializable bayesdl module"
    )


def _decode_config(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_config(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_MODULE_KEY}:
            spec = value[_MODULE_KEY]
            return _build(spec.get("class"), spec.get("config", {}))
        if set(value) == {_TUPLE_KEY}:
            return tuple(_decode_config(v) for v in value[_TUPLE_KEY])
        return {k: _decode_config(v) for k, v in value.items()}
    return value


def _build(class_name: Any, config: Any) -> Any:
    if not isinstance(class_name, str) or class_name not in _REGISTRY:
        _import_for(class_name)
    if class_name not in _REGISTRY:
        raise CheckpointError(f"unknown or unsafe class {class_name!r} in checkpoint; only @serializable bayesdl classes load")
    if not isinstance(config, dict):
        raise CheckpointError(f"malformed config for {class_name}")
    return _REGISTRY[class_name](**_decode_config(config))


def _import_for(class_name: Any) -> None:
    """Import the bayesdl module that defines ``class_name`` so that its decorator registers it."""
    if isinstance(class_name, str) and class_name.startswith("bayesdl."):
        import importlib

        module = class_name.rsplit(".", 1)[0]
        while module.startswith("bayesdl"):
            try:
                importlib.import_module(module)
                return
            except ImportError:
                module = module.rsplit(".", 1)[0]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place.

    Readers never see a half-written file under ``path``: it holds either the old or the new content.

    Arguments:
        path: the destination file; missing parent folders are created.
        data: the bytes to write.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Example:
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     target = atomic_write_bytes(Path(tmp) / "sub" / "blob.bin", b"abc")
        ...     print(target.read_bytes(), sorted(p.name for p in target.parent.iterdir()))
        b'abc' ['blob.bin']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically.

    Arguments:
        path: the destination file.
        obj: a JSON-serialisable value.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Example:
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print(json.loads(atomic_write_json(Path(tmp) / "m.json", {"nll": 0.5}).read_text()))
        {'nll': 0.5}
    """
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def _tensors_for_file(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses views that share memory; store an independent contiguous CPU copy of each.
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}


def _write(path: str | os.PathLike, tensors: dict[str, torch.Tensor], header: dict[str, Any]) -> Path:
    blob = safetensors_dumps(_tensors_for_file(tensors), metadata={"bayesdl": json.dumps(header)})
    return atomic_write_bytes(path, blob)


def _read(path: str | os.PathLike, expected_format: str, device: str | torch.device = "cpu") -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path} is not a bayesdl file (too short)")
        (header_len,) = struct.unpack("<Q", head)
        size = path.stat().st_size
        first = f.read(1)
    if header_len <= 0 or header_len > size - 8 or first != b"{":
        raise CheckpointError(
            f"{path} is not a bayesdl safetensors file (it may be a pickle or torch.save file); "
            "bayesdl never unpickles checkpoints, so it refuses to load it"
        )
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:  # safetensors raises its own error types for malformed files
        raise CheckpointError(f"{path} is corrupt or tampered with: {err}") from err
    try:
        header = json.loads(meta["bayesdl"])
    except (KeyError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} has no valid bayesdl header") from err
    if not isinstance(header, dict) or header.get("format") != expected_format:
        raise CheckpointError(f"{path} is not a {expected_format} file (format {header.get('format') if isinstance(header, dict) else None!r})")
    return header, tensors


def save(model: torch.nn.Module, path: str | os.PathLike) -> Path:
    """Save a @serializable model as JSON config plus safetensors weights in one file.

    Arguments:
        model: a module whose class (and nested module arguments) are @serializable.
        path: the file to write (conventionally ``*.safetensors``); written atomically.

    Returns:
        The path written.

    Raises:
        CheckpointError: if the model (or a module among its constructor arguments) is not @serializable,
            or a constructor argument is not JSON data.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> net = MLP(3, [4], 2)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = save(net, Path(tmp) / "mlp.safetensors")
        ...     copy = load(path)
        >>> x = torch.linspace(-1, 1, 6).reshape(2, 3)
        >>> copy.config == net.config, torch.equal(copy(x), net(x))
        (True, True)

    References:
        Hugging Face (2022), safetensors: a simple, safe format for storing tensors
        (https://github.com/huggingface/safetensors).
    """
    if not hasattr(model, "_bayesdl_config"):
        raise CheckpointError(f"{type(model).__name__} is not @serializable; bayesdl.save cannot rebuild it")
    header = {"format": MODEL_FORMAT, **_encode_config(model, "model")[_MODULE_KEY]}
    return _write(path, dict(model.state_dict()), header)


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Rebuild a model saved by :func:`save`; its outputs equal those of the saved model.

    Only JSON and raw tensor bytes are parsed, so loading a file cannot run code.

    Arguments:
        path: a file written by :func:`save`.
        device: the device to put the rebuilt model on.

    Returns:
        The rebuilt module, on ``device``.

    Example:
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "model.pt").write_bytes(b"not a safetensors file")
        ...     try:
        ...         load(Path(tmp) / "model.pt")
        ...     except CheckpointError:
        ...         print("refused")
        refused

    Raises:
        CheckpointError: for a missing file, a pickle or other foreign file, a tampered header, an
            unknown class, or weights that do not match the architecture.
    """
    header, tensors = _read(path, MODEL_FORMAT, device)
    model = _build(header.get("class"), header.get("config", {}))
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not match {header.get('class')}: {err}") from err
    return model.to(device)


def _flatten_state(value: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = value
        return {_TENSOR_KEY: key}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _flatten_state(v, f"{prefix}.{k}", tensors) for k, v in value.items()}
        return {_PAIRS_KEY: [[k, _flatten_state(v, f"{prefix}.{k}", tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE_KEY: [_flatten_state(v, prefix, tensors) for v in value]}
    if isinstance(value, list):
        return [_flatten_state(v, prefix, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CheckpointError(f"cannot store {prefix} of type {type(value).__name__} in a checkpoint")


def _unflatten_state(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_unflatten_state(v, tensors) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TENSOR_KEY}:
            if value[_TENSOR_KEY] not in tensors:
                raise CheckpointError(f"checkpoint refers to a missing tensor {value[_TENSOR_KEY]!r}")
            return tensors[value[_TENSOR_KEY]]
        if set(value) == {_PAIRS_KEY}:
            return {k: _unflatten_state(v, tensors) for k, v in value[_PAIRS_KEY]}
        if set(value) == {_TUPLE_KEY}:
            return tuple(_unflatten_state(v, tensors) for v in value[_TUPLE_KEY])
        return {k: _unflatten_state(v, tensors) for k, v in value.items()}
    return value


def save_state(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Save a nested dict of tensors and JSON values (a training checkpoint) atomically, without pickle.

    Arguments:
        state: a dict whose leaves are tensors or JSON values; dicts (with any hashable JSON keys), lists
            and tuples nest. Anything else raises :class:`CheckpointError`.
        path: the file to write.

    Returns:
        The path written.

    Example:
        >>> state = {"epoch": 3, "optimizer": {0: torch.ones(2)}, "rng": (torch.zeros(1), None)}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = load_state(save_state(state, Path(tmp) / "ckpt.safetensors"))
        >>> back["epoch"], back["optimizer"][0].tolist(), type(back["rng"]).__name__
        (3, [1.0, 1.0], 'tuple')
    """
    tensors: dict[str, torch.Tensor] = {}
    structure = _flatten_state(state, "state", tensors)
    return _write(path, tensors, {"format": STATE_FORMAT, "state": structure})


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
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print(load_state(save_state({"step": 7}, Path(tmp) / "s.safetensors")))
        {'step': 7}
    """
    header, tensors = _read(path, STATE_FORMAT, device)
    return _unflatten_state(header["state"], tensors)


def registered_classes() -> dict[str, type]:
    """The classes that :func:`load` may rebuild, by qualified name.

    Returns:
        A copy of the registry: qualified class name -> class.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> registered_classes()["bayesdl.models.nets.MLP"] is MLP
        True
    """
    return dict(_REGISTRY)


Factory = Callable[..., Any]
