"""Which weights a Laplace approximation covers: the last layer, all weights, or named modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import nn

from ...errors import InputError

Subset = Literal["last_layer", "all"]


def last_linear(net: nn.Module) -> tuple[str, nn.Linear]:
    """The name and module of the network's final ``nn.Linear`` (in registration order), which must produce the output.

    Raises:
        InputError: when the network has no linear layer, or its last module is not one (e.g. a softmax or an
            activation after it), because a last-layer Laplace needs the outputs to be linear in those weights.
    """
    named = [(name, m) for name, m in net.named_modules() if name]
    linears = [(name, m) for name, m in named if isinstance(m, nn.Linear)]
    if not linears:
        raise InputError(
            f"a last-layer Laplace approximation needs a final nn.Linear layer; {type(net).__name__} has none"
        )
    name, layer = linears[-1]
    leaves = [(n, m) for n, m in named if not list(m.children())]
    last_leaf_name, last_leaf = leaves[-1]
    trailing_ok = last_leaf is layer or isinstance(last_leaf, (nn.Identity, nn.Dropout, nn.Flatten))
    if not trailing_ok:
        raise InputError(
            f"the last module of {type(net).__name__} is {last_leaf_name!r} ({type(last_leaf).__name__}), not its final "
            f"linear layer {name!r}: a last-layer Laplace needs the network outputs to be linear in that layer's weights"
        )
    return name, layer


def select_parameters(net: nn.Module, subset: Subset | Sequence[str]) -> dict[str, nn.Parameter]:
    """The parameters the approximation covers, by their names in ``net``.

    Arguments:
        net: the trained network.
        subset: ``"last_layer"``, ``"all"``, or names of modules (e.g. ``["net.4", "net.6"]``) whose parameters
            are included (all trainable parameters beneath each named module).

    Raises:
        InputError: when the subset names no parameter, or names a module that does not exist.
    """
    if subset == "all":
        chosen = {n: p for n, p in net.named_parameters() if p.requires_grad}
    elif subset == "last_layer":
        name, layer = last_linear(net)
        chosen = {f"{name}.{n}": p for n, p in layer.named_parameters() if p.requires_grad}
    else:
        if isinstance(subset, str) or not all(isinstance(s, str) for s in subset):
            raise InputError(f"subset must be 'last_layer', 'all' or a list of module names, got {subset!r}")
        modules = dict(net.named_modules())
        missing = [s for s in subset if s not in modules]
        if missing:
            raise InputError(f"subset names modules that {type(net).__name__} does not have: {missing}")
        chosen = {}
        for s in subset:
            for n, p in modules[s].named_parameters():
                if p.requires_grad:
                    chosen[f"{s}.{n}" if s else n] = p
    if not chosen:
        raise InputError(f"the subset {subset!r} names no trainable parameters of {type(net).__name__}")
    return chosen
