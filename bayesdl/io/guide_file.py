"""The guide file format: a trained Pyro autoguide together with the @serializable model it approximates.

Pyro's autoguides are not @serializable and create their parameters lazily, on their first call, from a
trace of the model. A guide file therefore stores

- the guide's class, looked up on load in a fixed table of supported autoguides (:data:`GUIDE_CLASSES`),
  and its structural options (``init_scale``, ``rank``, ``hidden_dim``, ``num_transforms``) as JSON;
- the model as a nested @serializable config, its ``state_dict``, and how the guide wraps it (a
  ``pyro.poutine.block`` with named sites, or a method of the module);
- the arguments of the guide's first call, cut to one example when that leaves every latent site's shape
  unchanged (it does for global latents such as network weights);
- the guide's ``state_dict``.

Loading rebuilds the model as :func:`bayesdl.load` does, builds the guide, calls it once on the stored
arguments so that it creates its parameters (under an allocation budget, with the random number generators
forked, and with Pyro's module-local parameters), checks their names and shapes against the file, and loads
them. The initialiser (``init_loc_fn``) is not stored: it only sets initial values, which the stored
parameters replace.

Under Pyro's default global parameter store (``module_local_params=False``), the loaded parameters are also
written to the store under the guide's names, as ``pyro.get_param_store().load`` would, so that the guide
uses them and not stale values from an earlier guide of the same class.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyro
import pyro.poutine
import torch
from pyro.infer import autoguide
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.nn import PyroModule
from pyro.poutine import block_messenger
from pyro.poutine.messenger import _context_wrap
from pyro.poutine.util import site_is_subsample

from ..errors import CheckpointError
from . import container, preflight
from .model_file import _MODULE_KEY, build, encode_config, resolve_all
from .state_file import _flatten, _unflatten

GUIDE_FORMAT = "bayesdl-guide/1"

# Supported autoguides and the constructor options that shape their parameters.
GUIDE_CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {
    "AutoDelta": (autoguide.AutoDelta, ()),
    "AutoNormal": (autoguide.AutoNormal, ("init_scale",)),
    "AutoDiagonalNormal": (autoguide.AutoDiagonalNormal, ("init_scale",)),
    "AutoMultivariateNormal": (autoguide.AutoMultivariateNormal, ("init_scale",)),
    "AutoLowRankMultivariateNormal": (autoguide.AutoLowRankMultivariateNormal, ("init_scale", "rank")),
    "AutoIAFNormal": (autoguide.AutoIAFNormal, ("hidden_dim", "num_transforms", "*")),
}
_BLOCK_FIELDS = ("expose", "expose_types", "hide", "hide_types", "hide_all")


def is_guide(obj: Any) -> bool:
    """Whether ``obj`` is a Pyro autoguide (which :func:`bayesdl.save` stores in the guide format)."""
    return isinstance(obj, autoguide.AutoGuide)


def _guide_name(guide: Any) -> str:
    for name, (cls, _) in GUIDE_CLASSES.items():
        if type(guide) is cls:
            return name
    raise CheckpointError(
        f"cannot save a {type(guide).__name__}: bayesdl saves only the autoguides {sorted(GUIDE_CLASSES)}"
    )


def _guide_options(name: str, guide: Any) -> dict[str, Any]:
    if getattr(guide, "create_plates", None) is not None:
        raise CheckpointError(
            "cannot save a guide with create_plates=...: a function cannot be stored safely"
        )
    if name == "AutoIAFNormal":
        make = guide._init_transform_fn
        if not isinstance(make, functools.partial) or len(make.args) < 1:
            raise CheckpointError(
                "cannot save this AutoIAFNormal: its transform factory is not the default one"
            )
        keywords = dict(make.keywords)
        options = {
            "hidden_dim": keywords.pop("hidden_dims", None),
            "num_transforms": make.args[0],
            **keywords,
        }
    else:
        options = {}
        if "init_scale" in GUIDE_CLASSES[name][1]:
            options["init_scale"] = guide._init_scale
        if "rank" in GUIDE_CLASSES[name][1]:
            options["rank"] = guide.rank
    return encode_config(options, "guide options")


def _unwrap(fn: Any) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The @serializable module behind a guide's model, and how the guide's model wraps it."""
    wrapping: dict[str, Any] = {}
    if _is_context_wrap(fn) and isinstance(fn.args[0], InitMessenger):
        fn = fn.args[1]  # the guide's own initialisation wrapper, which the rebuilt guide adds again
    if _is_context_wrap(fn) and isinstance(fn.args[0], block_messenger.BlockMessenger):
        hide_fn = fn.args[0].hide_fn
        if not (isinstance(hide_fn, functools.partial) and hide_fn.func is block_messenger._block_fn):
            raise CheckpointError("cannot save a guide whose model is blocked by a custom hide_fn")
        wrapping["block"] = dict(zip(_BLOCK_FIELDS, hide_fn.args))
        fn = fn.args[1]
    if (
        getattr(fn, "__self__", None) is not None
        and isinstance(fn.__self__, torch.nn.Module)
        and not isinstance(fn, torch.nn.Module)
    ):
        wrapping["method"] = fn.__name__
        fn = fn.__self__
    if not (isinstance(fn, torch.nn.Module) and hasattr(fn, "_bayesdl_config")):
        raise CheckpointError(
            "cannot save this guide: its model must be a @serializable module (optionally inside "
            "pyro.poutine.block(..., hide=[...]) or as one of its methods)"
        )
    return fn, wrapping


def guide_model(guide: Any) -> torch.nn.Module:
    """The @serializable module that an autoguide approximates the posterior of (for a loaded guide, the
    rebuilt model).

    Arguments:
        guide: a Pyro autoguide whose model is a @serializable module, possibly blocked or as a method.

    Returns:
        The module.

    Raises:
        CheckpointError: if the guide's model is not such a module.
    """
    return _unwrap(guide.model)[0]


def _is_context_wrap(fn: Any) -> bool:
    """Whether ``fn`` is ``messenger(model)``: Pyro's ``_bound_partial`` over ``_context_wrap``."""
    if not isinstance(fn, functools.partial) or len(fn.args) != 2:
        return False
    func = fn.func  # _bound_partial keeps the inner partial in ``func``
    return func is _context_wrap or getattr(func, "func", None) is _context_wrap


def _wrap(model: torch.nn.Module, wrapping: Any) -> Any:
    if not isinstance(wrapping, dict) or set(wrapping) - {"block", "method"}:
        raise CheckpointError("malformed guide file: unknown model wrapping")
    fn: Any = model
    if "method" in wrapping:
        name = wrapping["method"]
        if (
            not isinstance(name, str)
            or name.startswith("_")
            or not callable(getattr(type(model), name, None))
        ):
            raise CheckpointError(
                f"malformed guide file: {type(model).__name__} has no public method {name!r}"
            )
        fn = getattr(model, name)
    if "block" in wrapping:
        spec = wrapping["block"]
        lists = ("expose", "expose_types", "hide", "hide_types")
        if (
            not isinstance(spec, dict)
            or set(spec) != set(_BLOCK_FIELDS)
            or not isinstance(spec["hide_all"], bool)
            or not all(isinstance(spec[k], list) and all(isinstance(s, str) for s in spec[k]) for k in lists)
        ):
            raise CheckpointError("malformed guide file: bad pyro.poutine.block specification")
        hide_fn = functools.partial(block_messenger._block_fn, *(spec[k] for k in _BLOCK_FIELDS))
        fn = block_messenger.BlockMessenger(hide_fn=hide_fn)(fn)
    return fn


def _prototype_inputs(guide: Any) -> tuple[tuple, dict[str, Any]]:
    trace = guide.prototype_trace
    if trace is None:
        raise CheckpointError(
            "cannot save an untrained guide: call it once (or train it) so that it has parameters"
        )
    node = trace.nodes.get("_INPUT", {})
    return tuple(node.get("args", ())), dict(node.get("kwargs", {}))


def _latent_shapes(fn: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    with torch.random.fork_rng(devices=[]), pyro.poutine.block():
        trace = pyro.poutine.trace(fn).get_trace(*args, **kwargs)
    return {
        name: tuple(site["value"].shape)
        for name, site in trace.iter_stochastic_nodes()
        if not site_is_subsample(site)
    }


def _shrink(guide: Any, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """The first example of each batched input, when that leaves every latent site's shape as it was."""
    sizes = {v.shape[0] for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor) and v.dim() > 0}
    if len(sizes) != 1 or sizes == {1}:
        return args, kwargs
    cut = lambda v: v[:1] if isinstance(v, torch.Tensor) and v.dim() > 0 else v  # noqa: E731
    small_args, small_kwargs = tuple(cut(a) for a in args), {k: cut(v) for k, v in kwargs.items()}
    try:
        same = _latent_shapes(guide.model, small_args, small_kwargs) == _latent_shapes(
            guide.model, args, kwargs
        )
    except Exception:  # the model refuses a batch of one: keep the inputs as they were
        same = False
    return (small_args, small_kwargs) if same else (args, kwargs)


def save_guide(guide: Any, path: str | os.PathLike) -> Path:
    """Save a trained autoguide and the @serializable model it wraps in one safetensors file, without pickle.

    Arguments:
        guide: one of :data:`GUIDE_CLASSES`, called at least once, whose model is a @serializable module.
        path: the file to write.

    Returns:
        The path written.

    Raises:
        CheckpointError: for another guide class, an untrained guide, a model that is not @serializable, or
            options or inputs that are not tensors and JSON data.

    Example:
        :func:`bayesdl.save` and :func:`bayesdl.load` call this for a guide; the model comes back with it:

        >>> import tempfile
        >>> import bayesdl
        >>> from bayesdl.models.logistic import BayesianLogisticRegression
        >>> x, y = torch.zeros(8, 4), torch.zeros(8, dtype=torch.long)
        >>> with pyro.settings.context(module_local_params=True):
        ...     guide = autoguide.AutoNormal(BayesianLogisticRegression(4, 3))
        ...     _ = guide(x, y)  # autoguides create their parameters on the first call
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         loaded = bayesdl.load(bayesdl.save(guide, Path(tmp) / "guide.safetensors"))
        ...     same = all(torch.equal(a, b) for a, b in zip(loaded.median().values(), guide.median().values()))
        >>> type(loaded).__name__, type(guide_model(loaded)).__name__, same
        ('AutoNormal', 'BayesianLogisticRegression', True)
    """
    name = _guide_name(guide)
    options = _guide_options(name, guide)
    model, wrapping = _unwrap(guide.model)
    args, kwargs = _shrink(guide, *_prototype_inputs(guide))
    inputs: dict[str, torch.Tensor] = {}
    structure = _flatten({"args": args, "kwargs": kwargs}, "guide inputs", inputs)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"guide.{k}": v for k, v in guide.state_dict().items()})
    tensors.update({f"input.{k}": v for k, v in inputs.items()})
    document = {
        "format": GUIDE_FORMAT,
        "guide": name,
        "options": options,
        "model": encode_config(model, "guide.model")[_MODULE_KEY],
        "wrapping": wrapping,
        "inputs": structure,
    }
    return container.write(path, tensors, document)


def _part(header: container.FileHeader, prefix: str) -> container.FileHeader:
    tensors = {k[len(prefix) :]: v for k, v in header.tensors.items() if k.startswith(prefix)}
    return replace(header, tensors=tensors)


def load_guide(header: container.FileHeader, device: str | torch.device = "cpu") -> Any:
    """Rebuild the guide (and its model, as ``guide.model``) from a file whose header was read."""
    doc = header.document
    name = doc.get("guide")
    if not isinstance(name, str) or name not in GUIDE_CLASSES:
        raise CheckpointError(f"unknown or unsafe guide class {name!r}; only {sorted(GUIDE_CLASSES)} load")
    cls, allowed = GUIDE_CLASSES[name]
    options = doc.get("options", {})
    if not isinstance(options, dict) or ("*" not in allowed and set(options) - set(allowed)):
        raise CheckpointError(f"malformed guide file: options {options!r} do not fit {name}")
    spec = doc.get("model")
    if not isinstance(spec, dict) or "class" not in spec:
        raise CheckpointError("malformed guide file: it names no model")
    resolve_all({_MODULE_KEY: spec}, "guide.model")
    wrapping = doc.get("wrapping", {})
    tensors = container.read_tensors(header, "cpu")
    part = lambda prefix: {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}  # noqa: E731
    inputs = _unflatten(doc.get("inputs", {"args": [], "kwargs": {}}), part("input."))
    if not (
        isinstance(inputs, dict)
        and isinstance(inputs.get("args"), tuple)
        and isinstance(inputs.get("kwargs"), dict)
    ):
        raise CheckpointError("malformed guide file: bad stored inputs")
    # Modules built with module-local parameters work under either setting; modules built under the global
    # store cannot be called with local parameters. So both are built local, which also keeps the build away
    # from the caller's parameter store.
    with pyro.settings.context(module_local_params=True), torch.random.fork_rng(devices=[]):
        model = preflight.build_checked(
            _part(header, "model."),
            lambda: build(spec["class"], spec.get("config", {}), "guide.model"),
            str(spec["class"]),
        )
        model.load_state_dict(part("model."), strict=True)
        with preflight.allocation_budget(preflight.budget_for(header), f"{header.path}: the {name} guide"):
            try:
                guide = cls(_wrap(model, wrapping), **options)
                with pyro.poutine.block():
                    guide(*inputs["args"], **inputs["kwargs"])
            except CheckpointError:
                raise
            except Exception as err:
                raise CheckpointError(
                    f"malformed guide file: the stored {name} cannot be rebuilt: {err}"
                ) from err
        preflight.compare_state(_part(header, "guide."), guide, name)
        guide.load_state_dict(part("guide."), strict=True)
    if not pyro.settings.get("module_local_params"):
        _publish_to_param_store(guide)
    return guide.to(device)


def _publish_to_param_store(guide: Any) -> None:
    """Under Pyro's global parameter store, drop stale entries under the guide's parameter names, so that the
    guide registers its loaded values there on its next call instead of adopting the stale ones."""
    store = pyro.get_param_store()
    for _, module in guide.named_modules():
        if not isinstance(module, PyroModule):
            continue
        names = set(module.__dict__.get("_pyro_params", {}))
        names |= {n for n in module._parameters if not n.endswith("_unconstrained")}
        for param_name in names:
            fullname = module._pyro_get_fullname(param_name)
            if fullname in store:
                del store[fullname]
