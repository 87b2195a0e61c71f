"""Moved to :mod:`bayesdl.ops.compiled_local_reparam` (the low-level kernels); this path keeps working."""

from ..ops.compiled_local_reparam import (  # noqa: F401
    CompiledCategoricalStep,
    CompiledLocalReparamStack,
    categorical_step,
    stack_backward,
    stack_forward,
)
