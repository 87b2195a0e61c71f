"""The model file format: a @serializable module as its JSON constructor config plus its ``state_dict``.

A saved model is one safetensors file (:mod:`bayesdl.io.container`): the tensors of ``state_dict()`` and,
in the metadata, a JSON document with the class's registry key and its constructor arguments. Constructor
arguments are JSON values (numbers, strings, booleans, None, lists, tuples, dicts with string keys) or other
@serializable modules, stored recursively.

Loading a file from someone else runs none of its content:

- the class is looked up in the registry (:mod:`bayesdl.io.registry`), never imported by a name from the
  file;
- the config must be a JSON object of keyword arguments that the constructor accepts, nested at most
  :data:`MAX_CONFIG_DEPTH` deep; anything else is a :class:`CheckpointError`;
- the config is checked against the tensors the file declares before anything big is allocated
  (:mod:`bayesdl.io.preflight`), so a small file cannot make ``load`` allocate a huge model.

Post-hoc models (Laplace, SWAG) hold tensors computed after construction (a curvature, weight moments) whose
shapes the config does not fix. Such a module defines ``fitted_state() -> {name: tensor}`` and
``load_fitted_state(tensors)``; its fitted tensors are stored as ``{module path}.__fitted__.{name}``, the
document lists the module paths under ``"fitted"``, and ``load_fitted_state`` (a method of a registered class,
never code from the file) checks every name, shape and dtype before it keeps them.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import torch

from ..deprecation import upgrade_config
from ..errors import CheckpointError
from . import container, preflight
from .registry import class_key, resolve

MODEL_FORMAT = "bayesdl-model/1"
#: the marker in a tensor name that puts it in a module's fitted state instead of its state_dict
FITTED_MARKER = "__fitted__"
MAX_CONFIG_DEPTH = 32
_MODULE_KEY = "__bayesdl_module__"
_TUPLE_KEY = "__tuple__"


def encode_config(value: Any, where: str) -> Any:
    """The JSON form of a constructor argument: JSON values as they are, @serializable modules nested."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [encode_config(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return {_TUPLE_KEY: items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CheckpointError(f"cannot save {where}: dict keys must be strings")
        return {k: encode_config(v, f"{where}.{k}") for k, v in value.items()}
    if hasattr(value, "_bayesdl_config"):
        key = class_key(type(value))
        if key is None:
            raise CheckpointError(
                f"cannot save {where}: class {type(value).__qualname__} is not @serializable"
            )
        return {_MODULE_KEY: {"class": key, "config": encode_config(value._bayesdl_config, where)}}
    raise CheckpointError(
        f"cannot save {where}: a constructor argument of type {type(value).__name__} is not JSON data "
        "or a @serializable bayesdl module"
    )


def _decode(value: Any, where: str, depth: int) -> Any:
    if depth > MAX_CONFIG_DEPTH:
        raise CheckpointError(f"malformed checkpoint: {where} is nested more than {MAX_CONFIG_DEPTH} deep")
    if isinstance(value, list):
        return [_decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if _MODULE_KEY in value:
            spec = value[_MODULE_KEY]
            if (
                len(value) != 1
                or not isinstance(spec, dict)
                or set(spec) - {"class", "config"}
                or "class" not in spec
            ):
                raise CheckpointError(
                    f"malformed checkpoint: {where} is not a {{'class', 'config'}} module entry"
                )
            return build(spec["class"], spec.get("config", {}), where, depth + 1)
        if _TUPLE_KEY in value:
            items = value[_TUPLE_KEY]
            if len(value) != 1 or not isinstance(items, list):
                raise CheckpointError(f"malformed checkpoint: {where} is not a tuple entry")
            return tuple(_decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(items))
        return {k: _decode(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    return value


def resolve_all(value: Any, where: str, depth: int = 0) -> None:
    """Look up every class the config names before any build, so that filling the registry (which imports
    bayesdl's model modules) never happens under the meta device or an allocation budget."""
    if depth > MAX_CONFIG_DEPTH:
        raise CheckpointError(f"malformed checkpoint: {where} is nested more than {MAX_CONFIG_DEPTH} deep")
    if isinstance(value, list):
        for v in value:
            resolve_all(v, where, depth + 1)
    elif isinstance(value, dict):
        spec = value.get(_MODULE_KEY)
        if isinstance(spec, dict) and "class" in spec:
            resolve(spec["class"])
        for v in value.values():
            resolve_all(v, where, depth + 1)


def build(class_name: Any, config: Any, where: str = "model", depth: int = 0) -> Any:
    """Rebuild a registered class from its stored key and config (recursively for nested modules).

    Raises:
        CheckpointError: for an unknown class, a config that is not a JSON object, nesting deeper than
            :data:`MAX_CONFIG_DEPTH`, keywords the constructor does not take or lacks, or a constructor that
            rejects the values.
    """
    cls = resolve(class_name)
    if not isinstance(config, dict):
        raise CheckpointError(
            f"malformed checkpoint: the config of {where} ({class_name}) must be a JSON object"
        )
    kwargs = upgrade_config(
        cls, _decode(config, where, depth + 1)
    )  # keywords and options renamed since the save
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as err:
        raise CheckpointError(
            f"malformed checkpoint: config of {where} ({class_name}) does not fit its constructor: {err}"
        ) from err
    try:
        return cls(**kwargs)
    except CheckpointError:
        raise
    except Exception as err:  # the constructor's own argument checks (InputError, ValueError, TypeError, ...)
        raise CheckpointError(
            f"malformed checkpoint: {class_name} refused the stored config of {where}: {err}"
        ) from err


def save(model: torch.nn.Module, path: str | os.PathLike) -> Path:
    """Save a @serializable model as JSON config plus safetensors weights in one file.

    A trained Pyro autoguide is saved together with its model in the guide format
    (:mod:`bayesdl.io.guide_file`).

    Arguments:
        model: a module whose class (and nested module arguments) are @serializable, or an autoguide.
        path: the file to write (conventionally ``*.safetensors``); written atomically.

    Returns:
        The path written.

    Raises:
        CheckpointError: if the model (or a module among its constructor arguments) is not @serializable,
            or a constructor argument is not JSON data.
        InputError: if ``path`` is a folder or cannot be written.

    Example:
        >>> import tempfile
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
    from .guide_file import is_guide, save_guide

    if is_guide(model):
        return save_guide(model, path)
    if not hasattr(model, "_bayesdl_config"):
        raise CheckpointError(f"{type(model).__name__} is not @serializable; bayesdl.save cannot rebuild it")
    document = {"format": MODEL_FORMAT, **encode_config(model, "model")[_MODULE_KEY]}
    tensors = dict(model.state_dict())
    fitted = []
    for module_path, module in model.named_modules():
        if callable(getattr(module, "fitted_state", None)):
            fitted.append(module_path)
            prefix = f"{module_path}.{FITTED_MARKER}." if module_path else f"{FITTED_MARKER}."
            tensors.update({prefix + k: v for k, v in module.fitted_state().items()})
    if fitted:
        document["fitted"] = fitted
    return container.write(path, tensors, document)


def _split_fitted(header: container.FileHeader) -> tuple[container.FileHeader, list[str]]:
    """The header without the fitted tensors (what the config builds), and the module paths with fitted state."""
    fitted = header.document.get("fitted", [])
    if not isinstance(fitted, list) or not all(isinstance(p, str) for p in fitted):
        raise CheckpointError(f"malformed checkpoint: {header.path}: 'fitted' must be a list of module paths")
    marked = [k for k in header.tensors if FITTED_MARKER in k.split(".")]
    if marked and not fitted:
        raise CheckpointError(
            f"malformed checkpoint: {header.path} holds fitted tensors but names no fitted module"
        )
    plain = {k: v for k, v in header.tensors.items() if k not in set(marked)}
    return container.FileHeader(header.path, header.document, plain), fitted


def _load_fitted(
    model: torch.nn.Module, tensors: dict[str, torch.Tensor], fitted: list[str], path: Any
) -> None:
    modules = dict(model.named_modules())
    for module_path in fitted:
        module = modules.get(module_path)
        if module is None or not callable(getattr(module, "load_fitted_state", None)):
            raise CheckpointError(
                f"malformed checkpoint: {path}: {module_path!r} is not a module with fitted state"
            )
        prefix = f"{module_path}.{FITTED_MARKER}." if module_path else f"{FITTED_MARKER}."
        own = {
            k[len(prefix) :]: v
            for k, v in tensors.items()
            if k.startswith(prefix) and "." not in k[len(prefix) :]
        }
        try:
            module.load_fitted_state(own)
        except CheckpointError:
            raise
        except Exception as err:  # the class's own checks of names, shapes and dtypes
            raise CheckpointError(
                f"{path}: the fitted state of {module_path or 'the model'} is malformed: {err}"
            ) from err
    expected = {
        module_path for module_path, m in modules.items() if callable(getattr(m, "load_fitted_state", None))
    }
    if set(fitted) != expected:
        raise CheckpointError(
            f"malformed checkpoint: {path}: fitted modules {sorted(fitted)}, expected {sorted(expected)}"
        )


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Rebuild a model saved by :func:`save`; its outputs equal those of the saved model.

    Only JSON and raw tensor bytes are parsed, and only registered classes are built, so loading a file
    cannot run code. The config is checked against the stored tensors before anything is allocated.
    Loading leaves the global random number generators as they were.

    Arguments:
        path: a file written by :func:`save`.
        device: the device to put the rebuilt model on.

    Returns:
        The rebuilt module, on ``device`` (for a guide file, the guide; its model is ``guide.model``).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "model.pt").write_bytes(b"not a safetensors file")
        ...     try:
        ...         load(Path(tmp) / "model.pt")
        ...     except CheckpointError:
        ...         print("refused")
        refused

    Raises:
        CheckpointError: for a missing file, a pickle or other foreign file, a tampered header, an
            unknown class, a malformed config, or weights that do not match the architecture.
    """
    from .guide_file import GUIDE_FORMAT, load_guide

    header = container.read_header(path, (MODEL_FORMAT, GUIDE_FORMAT))
    if header.document["format"] == GUIDE_FORMAT:
        return load_guide(header, device)
    class_name, config = header.document.get("class"), header.document.get("config", {})
    if class_name is None:
        raise CheckpointError(f"malformed checkpoint: {header.path} names no class")
    resolve(class_name)
    resolve_all(config, "model")
    plain_header, fitted = _split_fitted(header)
    with torch.random.fork_rng(devices=[]):  # constructors draw initial weights; keep the caller's stream
        model = preflight.build_checked(plain_header, lambda: build(class_name, config), str(class_name))
    tensors = container.read_tensors(header, device)
    try:
        model.load_state_dict({k: v for k, v in tensors.items() if k in plain_header.tensors}, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not match {class_name}: {err}") from err
    _load_fitted(model, tensors, fitted, header.path)
    return model.to(device)
