"""A log-space einsum that works under ``torch.func.vmap`` and ``grad``: an opt_einsum backend for Pyro's rings.

log C[out] = logsumexp over the summed indices of sum_k log A_k[indices_k]: each operand is laid out on
the union of all indices (size-1 where it lacks one), the logs are added by broadcasting, and the
indices not in the output are reduced with ``torch.logsumexp`` (which is stable and has a finite
gradient when all terms are -inf... up to torch's convention). Pyro's own log-space backend goes through
``exp``/``einsum`` and a custom autograd function that functorch transforms cannot differentiate; this
one uses only plain tensor operations. It materialises the broadcast product, so it suits the small
enumerated supports that NUTS marginalises.
"""

from __future__ import annotations

import torch
from pyro.ops.einsum.util import Tensordot


def transpose(a: torch.Tensor, axes: tuple[int, ...]) -> torch.Tensor:
    """Permute the axes of a (the backend's ``transpose``).

    Arguments:
        a: a tensor.
        axes: the new order of its axes.

    Returns:
        The permuted tensor.

    Example:
        >>> transpose(torch.zeros(2, 3), (1, 0)).shape
        torch.Size([3, 2])
    """
    return a.permute(axes)


def einsum(equation: str, *operands: torch.Tensor) -> torch.Tensor:
    """Log-space einsum: ``"ab,bc->ac"`` gives log sum_b exp(A[a, b] + B[b, c]).

    Arguments:
        equation: an explicit einsum equation with ``->``.
        *operands: log-valued tensors, one per input term.

    Returns:
        The log-valued result, with the output indices in order.

    Example:
        >>> a, b = torch.randn(2, 3), torch.randn(3, 4)
        >>> torch.allclose(einsum("ab,bc->ac", a, b), (a.exp() @ b.exp()).log())
        True
    """
    inputs, output = equation.split("->")
    terms = inputs.split(",")
    symbols = list(output) + sorted(set("".join(terms)) - set(output))
    total = None
    for term, operand in zip(terms, operands):
        order = sorted(range(len(term)), key=lambda i: symbols.index(term[i]))
        aligned = operand.permute(order) if order else operand
        present = [term[i] for i in order]
        shape, it = [], iter(aligned.shape)
        for s in symbols:
            shape.append(next(it) if s in present else 1)
        aligned = aligned.reshape(shape)
        total = aligned if total is None else total + aligned
    summed = tuple(range(len(output), len(symbols)))
    return torch.logsumexp(total, dim=summed) if summed else total


tensordot = Tensordot(einsum)

__all__ = ["einsum", "tensordot", "transpose"]
