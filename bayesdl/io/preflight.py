"""Checking a stored config against the tensors its file declares, before anything big is allocated.

A model file's config decides how much memory the constructor allocates, and the file is untrusted: a
580-byte file could declare a 50000x50000 network. :func:`build_checked` therefore

1. builds the module on PyTorch's ``meta`` device, which allocates no memory, and compares its
   ``state_dict`` names, shapes and dtypes with the tensors the file declares; only a matching config is
   then built for real;
2. for a constructor that cannot run on ``meta`` (one that reads tensor values, such as GPyTorch's
   constraints), builds for real under an allocation budget instead: every tensor-creating operation is
   checked before it runs, and the build stops once the tensors created exceed the budget. The
   ``state_dict`` is compared with the file afterwards.

The budget is the bytes the file stores plus as much again, or :data:`UNSTORED_BYTES_ALLOWED`
(256 MiB) if that is larger, for buffers that are not saved. Memory a constructor allocates outside PyTorch
(Python lists, NumPy arrays) is not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ..errors import CheckpointError
from .container import FileHeader

UNSTORED_BYTES_ALLOWED = 1 << 28

# aten factory operations whose first argument (second for the new_* methods) is the output size.
_SIZED_FACTORIES = {
    "empty",
    "empty_strided",
    "zeros",
    "ones",
    "full",
    "rand",
    "randn",
    "randint",
    "randperm",
    "normal",
    "scalar_tensor",
}
_SIZED_METHODS = {"new_empty", "new_empty_strided", "new_zeros", "new_ones", "new_full"}


def build_checked(header: FileHeader, construct: Callable[[], Any], class_name: str) -> torch.nn.Module:
    """Build the module that ``construct`` makes, refusing a config that does not fit the file's tensors.

    Raises:
        CheckpointError: if the result is not a module, its ``state_dict`` differs from the declared
            tensors in names, shapes or dtypes, or it needs more memory than the budget.
    """
    budget = budget_for(header)
    try:
        with torch.device("meta"):
            skeleton = construct()
    except CheckpointError as err:
        if not _meta_unsupported(err):
            raise
        skeleton = None
    if skeleton is not None:
        _compare(header, skeleton, class_name, budget)
        return construct()
    with allocation_budget(budget, f"{header.path}: the config of {class_name}"):
        model = construct()
    _compare(header, model, class_name, budget)
    return model


def budget_for(header: FileHeader) -> int:
    """The bytes of tensors that building from ``header``'s file may create: see the module docstring."""
    stored = sum(spec.nbytes for spec in header.tensors.values())
    return stored + max(stored, UNSTORED_BYTES_ALLOWED)


def compare_state(header: FileHeader, module: Any, class_name: str) -> None:
    """Refuse ``module`` if its ``state_dict`` differs from the tensors ``header`` declares.

    Raises:
        CheckpointError: naming the first differing tensor.
    """
    _compare(header, module, class_name, budget_for(header))


def allocation_budget(budget: int, what: str) -> _AllocationBudget:
    """A context in which tensor-creating operations fail with :class:`CheckpointError` once they would
    create more than ``budget`` bytes in total; ``what`` names the thing being built in the message."""
    return _AllocationBudget(budget, what)


def _meta_unsupported(err: BaseException) -> bool:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, (NotImplementedError, RuntimeError)) and "meta" in str(cause):
            return True
        cause = cause.__cause__
    return False


def _compare(header: FileHeader, module: Any, class_name: str, budget: int) -> None:
    if not isinstance(module, torch.nn.Module):
        raise CheckpointError(f"{header.path}: {class_name} is not a torch module")
    expected = module.state_dict()
    declared = header.tensors
    missing = sorted(set(expected) - set(declared))
    unexpected = sorted(set(declared) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{header.path}: weights do not match {class_name}: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, tensor in expected.items():
        spec = declared[name]
        if tuple(tensor.shape) != spec.shape or tensor.dtype != spec.dtype:
            raise CheckpointError(
                f"{header.path}: weights do not match {class_name}: {name!r} is {spec.dtype} {list(spec.shape)} "
                f"in the file, but the config builds {tensor.dtype} {list(tensor.shape)}"
            )
    needed = sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
    if needed > budget:
        raise CheckpointError(
            f"{header.path}: the config of {class_name} asks for {needed} bytes of tensors, "
            f"more than the {budget} that the file's {len(declared)} tensors allow"
        )


def _size_bytes(size: Any, dtype: Any) -> int:
    if isinstance(size, int):
        size = [size]
    if not isinstance(size, (list, tuple)) or not all(isinstance(d, int) for d in size):
        return 0
    numel = 1
    for d in size:
        numel *= max(d, 0)
    element = torch.empty((), dtype=dtype).element_size() if isinstance(dtype, torch.dtype) else 8
    return numel * element


class _AllocationBudget(TorchDispatchMode):
    """Refuse tensor-creating operations once the bytes they create would exceed ``budget``."""

    def __init__(self, budget: int, what: str) -> None:
        super().__init__()
        self.budget, self.what, self.used = budget, what, 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        if name in _SIZED_FACTORIES and args:
            self._charge(_size_bytes(args[0], kwargs.get("dtype")))
        elif name in _SIZED_METHODS and len(args) > 1:
            self._charge(_size_bytes(args[1], kwargs.get("dtype", getattr(args[0], "dtype", None))))
        return func(*args, **kwargs)

    def _charge(self, nbytes: int) -> None:
        self.used += nbytes
        if self.used > self.budget:
            raise CheckpointError(
                f"{self.what} allocates more than {self.budget} bytes of tensors, "
                "far more than the file stores; refusing to build it"
            )
