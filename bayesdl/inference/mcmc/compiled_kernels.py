"""Trace or compile NUTS's two kernels (a tree leaf with the potential inside, and a doubling boundary) once per model.

For the small models NUTS is usually run on, a leapfrog step costs a fixed overhead per tensor operation
(the potential of eight schools is some 150 ATen operations), not arithmetic. Two backends remove it:

- ``"jit"``: ``torch.jit.trace`` of each kernel, one TorchScript call per leaf (the operations still run
  one by one, without Python between them); tracing takes about a second.
- ``"inductor"``: ``make_fx`` records each kernel as one ATen graph (the potential's graph inlined),
  :func:`~bayesdl.inference.mcmc.graph_passes.simplify_graph` folds its data-only work, and
  TorchInductor turns it into one fused C++ (or Triton, on CUDA) kernel for the fixed shapes of the run
  (no dynamic shapes). A leaf then costs tens of microseconds instead of a millisecond, after a compile of
  tens of seconds; the compiled kernels are cached in the process (keyed by the graph and its constants),
  so a model sampled again in the same process pays the compile once.

Both are checked against the eager kernels on an example state; on any failure or disagreement the
caller gets None and stays eager. A compiled leaf that raises ``torch.linalg.LinAlgError`` (a Cholesky of an
indefinite matrix far out in a trajectory) is rerun eagerly for that leaf, with the failing chains' energy set
to +inf by :func:`~bayesdl.inference.mcmc.potential.reject_failed_evaluations`: the point is rejected as a
divergence, as in the eager sampler.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable

import torch

from .graph_passes import simplify_graph
from .integrator import EnergyAndGrad
from .nuts import ChainState, NutsKernels, tree_boundary, tree_leaf
from .potential import reject_failed_evaluations

BACKENDS = ("jit", "inductor")

#: compiled Inductor kernels of this process, by graph code, constants and example layout
_INDUCTOR_CACHE: dict[str, Callable] = {}


def _examples(state: ChainState, inv_mass: torch.Tensor, max_tree_depth: int) -> tuple[tuple, tuple]:
    """Example arguments for the leaf and the boundary that exercise their checks and merges."""
    z, u, g = state.z, state.energy, state.grad
    num_chains = z.shape[0]
    device = z.device
    gen = torch.Generator(device=device).manual_seed(0)
    p = torch.randn(z.shape, generator=gen, dtype=z.dtype, device=device)
    h0 = u + 0.5 * (p * p).sum(-1)
    step = torch.full((num_chains, 1), 1e-3, dtype=z.dtype, device=device)
    yes = torch.ones(num_chains, dtype=torch.bool, device=device)
    zeros = torch.zeros_like(u)
    ckpt = torch.randn((max_tree_depth + 1, *z.shape), generator=gen, dtype=z.dtype, device=device)
    half = torch.full_like(u, 0.5)
    levels = torch.arange(max_tree_depth + 1, device=device)
    one = torch.ones(1, dtype=torch.long, device=device)
    leaf = (
        z,
        p,
        g,
        step,
        inv_mass,
        h0,
        yes,
        half,
        torch.full_like(u, float("-inf")),
        z,
        u,
        g,
        h0,
        p,
        ckpt,
        ckpt * 0.5,
        zeros,
        torch.zeros(num_chains, dtype=torch.long, device=device),
        ~yes,
        one,
        one,
        levels,
    )
    true = torch.ones(1, dtype=torch.bool, device=device)
    boundary = (
        true,
        true,
        step,
        inv_mass,
        h0,
        half,
        torch.full_like(u, 0.3),
        z,
        p,
        g,
        z + 0.1,
        -p,
        g,
        p,
        z,
        u,
        g,
        h0,
        zeros,
        yes,
        torch.zeros(num_chains, dtype=torch.long, device=device),
        yes,
        z + 0.2,
        p,
        g,
        yes,
        zeros,
        p,
        z,
        u,
        g,
        h0,
    )
    # every argument its own tensor: tracers map tensors to inputs by identity, so one tensor passed as two
    # arguments would make every use read the last of them
    return tuple(x.clone() for x in leaf), tuple(x.clone() for x in boundary)


def _agree(fast: tuple, slow: tuple) -> bool:
    for a, b in zip(fast, slow, strict=True):
        if a.dtype == torch.bool or not a.is_floating_point():
            if not torch.equal(a, b):
                return False
        elif not torch.allclose(a, b, rtol=1e-6, atol=1e-8, equal_nan=True):
            return False
    return True


def _cache_key(gm: torch.fx.GraphModule, example: tuple) -> str:
    digest = hashlib.sha256(gm.code.encode())
    for name, value in sorted(list(gm.named_buffers()) + list(gm.named_parameters())):
        value = value.detach().contiguous().cpu()
        digest.update(f"{name}{tuple(value.shape)}{value.dtype}".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    for x in example:
        digest.update(f"{tuple(x.shape)}{x.stride()}{x.dtype}{x.device}".encode())
    return digest.hexdigest()


def _inductor(fn: Callable, example: tuple) -> Callable:
    from torch._inductor import compile as inductor_compile
    from torch._inductor import config
    from torch.fx.experimental.proxy_tensor import make_fx

    gm = simplify_graph(make_fx(fn, _error_on_data_dependent_ops=False)(*example))
    key = _cache_key(gm, example)
    if key not in _INDUCTOR_CACHE:
        # torch._inductor.compile, not torch.compile: no Dynamo guards, so aliased arguments (one tensor passed as
        # two inputs, as at the start of a tree) or the grad mode of the caller never trigger a recompile
        with config.patch(compile_threads=1):
            compiled = inductor_compile(gm, list(example))
        _INDUCTOR_CACHE[key] = lambda *tensors: tuple(compiled(*tensors))
    return _INDUCTOR_CACHE[key]


def compile_nuts_kernels(
    energy_and_grad: EnergyAndGrad,
    state: ChainState,
    inv_mass: torch.Tensor,
    max_tree_depth: int = 10,
    backend: str = "jit",
    max_delta_energy: float = 1000.0,
    eager_energy_and_grad: EnergyAndGrad | None = None,
) -> NutsKernels | None:
    """Trace (``"jit"``) or compile (``"inductor"``) :func:`tree_leaf` and :func:`tree_boundary` for one run.

    Arguments:
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]), made of ATen operations that can be traced
            (such as :meth:`BatchedPotential.compiled_energy_and_grad`).
        state: an example state of the chains (fixes C, D, dtype and device).
        inv_mass: an example inverse mass matrix, diagonals [C, D] or dense [C, D, D]; the kernels accept
            only that layout.
        max_tree_depth: fixes the size of the checkpoint buffers.
        backend: ``"jit"`` or ``"inductor"`` (see the module docstring).
        max_delta_energy: the divergence threshold bound into the leaf.
        eager_energy_and_grad: the same potential for any number of chains, run op by op, for a leaf the
            compiled kernel cannot evaluate (a ``LinAlgError``); None uses ``energy_and_grad``.

    Returns:
        The :class:`~bayesdl.inference.mcmc.nuts.NutsKernels`, or None if tracing or compiling fails or the
        result disagrees with the eager kernels on an example state.

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> state = ChainState(torch.ones(2, 3), torch.full((2,), 1.5), torch.ones(2, 3))
        >>> kernels = compile_nuts_kernels(f, state, torch.ones(2, 3))
        >>> from bayesdl.inference.mcmc.nuts import nuts_transition
        >>> s = ChainState(torch.zeros(2, 3), torch.zeros(2), torch.zeros(2, 3))
        >>> args = (s, torch.full((2,), 0.5), torch.ones(2, 3), f)
        >>> fast, _ = nuts_transition(*args, torch.Generator().manual_seed(1), kernels=kernels)
        >>> slow, _ = nuts_transition(*args, torch.Generator().manual_seed(1))
        >>> kernels.backend, torch.allclose(fast.z, slow.z)
        ('jit', True)
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    eager = NutsKernels.eager(energy_and_grad, max_delta_energy)
    leaf_example, boundary_example = _examples(state, inv_mass, max_tree_depth)

    def leaf(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tree_leaf(*tensors, energy_and_grad=energy_and_grad, max_delta_energy=max_delta_energy)

    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            if backend == "jit":
                fast_leaf = torch.jit.trace(leaf, leaf_example, check_trace=False)
                fast_boundary = torch.jit.trace(tree_boundary, boundary_example, check_trace=False)
            else:
                fast_leaf, fast_boundary = (
                    _inductor(leaf, leaf_example),
                    _inductor(tree_boundary, boundary_example),
                )
            agree = _agree(fast_leaf(*leaf_example), eager.leaf(*leaf_example)) and _agree(
                fast_boundary(*boundary_example), eager.boundary(*boundary_example)
            )
    except Exception:  # noqa: BLE001 - stay eager if the kernels cannot be traced or compiled
        return None
    if not agree:
        return None
    slow = energy_and_grad if eager_energy_and_grad is None else eager_energy_and_grad
    rejecting = NutsKernels.eager(lambda z: reject_failed_evaluations(slow, z), max_delta_energy)
    return NutsKernels(_falling_back(fast_leaf, rejecting.leaf), fast_boundary, backend)


def _falling_back(fast: Callable, eager: Callable) -> Callable:
    """``fast``, or ``eager`` on the same inputs for a call where ``fast`` raises a linear-algebra error.

    The leaf has no in-place operations, so a failed call leaves its inputs as they were.
    """

    def leaf(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        try:
            return fast(*tensors)
        except torch.linalg.LinAlgError:
            return eager(*tensors)

    return leaf
