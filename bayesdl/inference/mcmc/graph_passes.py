"""Shrink a traced ATen graph of the potential before it is compiled: fold the data-only work, drop dead and repeated ops.

A potential traced with ``make_fx`` records every ATen operation the model ran, including the ones that
depend only on the data (``log(sigma)``, dtype conversions, reshapes of the design matrix) and the
results nothing reads (checks, discarded intermediates). For the small models NUTS is run on, a
leapfrog step costs roughly a fixed overhead per operation, so every operation removed from the graph is
time saved on every step.
"""

from __future__ import annotations

import torch
from torch.fx import GraphModule, Node
from torch.fx.node import map_arg


def _is_pure(node: Node) -> bool:
    """An ATen call with no side effects and no randomness, whose result is a function of its inputs alone."""
    target = node.target
    if node.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
        return False
    if target._schema.is_mutable or torch.Tag.nondeterministic_seeded in target.tags:
        return False
    return not any(isinstance(r.type, torch.ListType) for r in target._schema.returns)


def fold_constants(gm: GraphModule, max_numel: int = 1 << 24) -> int:
    """Evaluate once every pure node whose inputs are all constants, and store its value as a constant.

    Arguments:
        gm: a graph module from ``make_fx`` (its tensor constants are ``get_attr`` nodes); changed in place.
        max_numel: constants larger than this many elements are left to be computed on every call.

    Returns:
        The number of nodes replaced by constants.

    Example:
        >>> from torch.fx.experimental.proxy_tensor import make_fx
        >>> data = torch.arange(1.0, 4.0)
        >>> gm = make_fx(lambda z: z * data.log().sum())(torch.ones(2))
        >>> fold_constants(gm) >= 1, sum(n.op == "call_function" for n in gm.graph.nodes)
        (True, 1)
    """
    values: dict[Node, torch.Tensor] = {}
    folded = 0
    for node in list(gm.graph.nodes):
        if node.op == "get_attr":
            value = gm
            for part in str(node.target).split("."):
                value = getattr(value, part)
            if isinstance(value, torch.Tensor):
                values[node] = value
            continue
        if (
            not _is_pure(node)
            or not node.all_input_nodes
            or not all(n in values for n in node.all_input_nodes)
        ):
            continue
        args, kwargs = map_arg((node.args, node.kwargs), lambda n: values[n])
        with torch.no_grad():
            out = node.target(*args, **kwargs)
        if not isinstance(out, torch.Tensor) or out.numel() > max_numel:
            continue
        name = f"_folded_{folded}"
        gm.register_buffer(name, out.clone() if out._base is not None else out)
        with gm.graph.inserting_before(node):
            constant = gm.graph.get_attr(name)
        node.replace_all_uses_with(constant)
        gm.graph.erase_node(node)
        values[constant] = out
        folded += 1
    return folded


def eliminate_common_subexpressions(gm: GraphModule) -> int:
    """Replace each pure node by an earlier identical one (same target, same arguments).

    Arguments:
        gm: a graph module; changed in place.

    Returns:
        The number of nodes removed.

    Example:
        >>> from torch.fx.experimental.proxy_tensor import make_fx
        >>> gm = make_fx(lambda z: z.exp() + z.exp())(torch.ones(2))
        >>> eliminate_common_subexpressions(gm)
        1
    """
    seen: dict[tuple, Node] = {}
    removed = 0
    for node in list(gm.graph.nodes):
        if not _is_pure(node):
            continue
        key = (node.target, repr(node.args), repr(sorted(node.kwargs.items())))
        if key in seen:
            node.replace_all_uses_with(seen[key])
            gm.graph.erase_node(node)
            removed += 1
        else:
            seen[key] = node
    return removed


def simplify_graph(gm: GraphModule) -> GraphModule:
    """Drop dead operations, fold constants and merge repeated operations; returns ``gm`` recompiled.

    A graph with in-place operations is only pruned of dead code.

    Arguments:
        gm: a graph module from ``make_fx``; changed in place.

    Returns:
        The same module, recompiled; it computes the same outputs.

    Example:
        >>> from torch.fx.experimental.proxy_tensor import make_fx
        >>> data = torch.tensor([2.0, 3.0])
        >>> f = lambda z: (z.exp() * data.log()).sum() + z.exp().sum()
        >>> gm = make_fx(f)(torch.ones(2))
        >>> before = sum(n.op == "call_function" for n in gm.graph.nodes)
        >>> gm = simplify_graph(gm)
        >>> before - sum(n.op == "call_function" for n in gm.graph.nodes), float(gm(torch.ones(2))) == float(f(torch.ones(2)))
        (2, True)
    """
    gm.graph.eliminate_dead_code()
    mutating = any(
        n.op == "call_function"
        and isinstance(n.target, torch._ops.OpOverload)
        and n.target._schema.is_mutable
        for n in gm.graph.nodes
    )
    if not mutating:  # with in-place ops, a folded or merged value could be one that is later overwritten
        fold_constants(gm)
        gm.graph.eliminate_dead_code()
        eliminate_common_subexpressions(gm)
        gm.graph.eliminate_dead_code()
    gm.graph.lint()
    gm.recompile()
    return gm
