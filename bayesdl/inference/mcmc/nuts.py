"""One transition of the No-U-Turn Sampler for a batch of chains that advance together.

All chains double their trajectories in lock step: at doubling j every chain that is still
running integrates 2^j leapfrog steps in its own random direction, in one set of batched tensor
operations. Chains whose trajectory has turned or diverged are frozen by masks, and the loop
stops as soon as no chain is running. Each chain's trajectory is exactly that of a single-chain
NUTS: multinomial sampling of the draw (uniform inside a new subtree, biased towards the new
subtree when it is merged), and the generalised no-U-turn criterion p#_-.rho > 0 and p#_+.rho > 0
(with p# = M^{-1} p and rho the summed momenta) checked on every balanced sub-tree. Because
every chain is at the same step index of the same doubling, the sub-tree bookkeeping (which
checkpoints to store and check) is shared; only its values are per chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .integrator import EnergyAndGrad, kinetic_energy, leapfrog, sample_momentum, velocity  # noqa: F401


@dataclass
class ChainState:
    """Position z [C, D], its potential energy U [C] and gradient dU/dz [C, D].

    Attributes:
        z: the chains' positions in unconstrained space, [C, D].
        energy: the potential energy U(z) = -log density (up to a constant), [C], in nats.
        grad: the gradient dU/dz, [C, D].

    Example:
        >>> z = torch.tensor([[1.0, -2.0]])
        >>> state = ChainState(z, 0.5 * (z ** 2).sum(-1), z.clone())
        >>> state.energy.tolist()
        [2.5]
    """

    z: torch.Tensor
    energy: torch.Tensor
    grad: torch.Tensor


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Select per chain: mask [C] broadcast over the trailing dimensions of a and b."""
    return torch.where(mask.view(-1, *([1] * (a.dim() - 1))), a, b)


def _turned(p_sharp_start: torch.Tensor, p_sharp_end: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """The generalised no-U-turn test fails (the trajectory has turned) for chains where it returns True."""
    return ((p_sharp_start * rho).sum(-1) <= 0) | ((p_sharp_end * rho).sum(-1) <= 0)


def trajectory_step(
    z: torch.Tensor,
    p: torch.Tensor,
    g: torch.Tensor,
    signed_step: torch.Tensor,
    inv_mass: torch.Tensor,
    h0: torch.Tensor,
    live: torch.Tensor,
    uniform: torch.Tensor,
    sub_log_weight: torch.Tensor,
    sub_z: torch.Tensor,
    sub_u: torch.Tensor,
    sub_g: torch.Tensor,
    sub_h: torch.Tensor,
    accept_sum: torch.Tensor,
    n_steps: torch.Tensor,
    diverging: torch.Tensor,
    energy_and_grad: EnergyAndGrad,
    max_delta_energy: float = 1000.0,
) -> tuple[torch.Tensor, ...]:
    """One leapfrog step inside a subtree plus its bookkeeping, as a pure function of tensors (so it can be traced).

    Chains with ``live`` False are carried along unchanged. The new point replaces the subtree's
    draw with probability w_new / (sum of subtree weights), w = exp(H0 - H) (uniform multinomial
    sampling in progressive form); ``uniform`` [C] holds the uniform variates for that choice.

    Arguments:
        z, p, g: position, momentum and dU/dz at the current end of the trajectory, each [C, D].
        signed_step: step sizes with the direction of integration, [C, 1].
        inv_mass: inverse mass matrices, diagonals [C, D] or dense [C, D, D].
        h0: the Hamiltonian at the start of the transition, [C].
        live: which chains still extend their subtree, [C] bool.
        uniform: uniform variates on [0, 1) for the multinomial choice, [C].
        sub_log_weight: log of the summed weights exp(H0 - H) of the subtree so far, [C].
        sub_z, sub_u, sub_g, sub_h: the subtree's current draw (position, U, gradient, H).
        accept_sum: the running sum of min(1, exp(H0 - H)), [C].
        n_steps: leapfrog steps taken so far, [C] long.
        diverging: whether a chain has diverged in this transition, [C] bool.
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).
        max_delta_energy: an energy error H - H0 above this marks a divergence.

    Returns:
        ``(z, p, g, u, p_sharp, divergent, sub_log_weight, sub_z, sub_u, sub_g, sub_h, accept_sum, n_steps, diverging)``.

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> z, h0 = torch.ones(1, 1), torch.tensor([0.5])
        >>> out = trajectory_step(z, torch.zeros(1, 1), z, torch.full((1, 1), 0.1), torch.ones(1, 1), h0,
        ...                       torch.tensor([True]), torch.tensor([0.0]), torch.tensor([float("-inf")]),
        ...                       z, h0, z, h0, torch.zeros(1), torch.zeros(1, dtype=torch.long),
        ...                       torch.tensor([False]), energy_and_grad=f)
        >>> round(float(out[0]), 4), int(out[12]), bool(out[13])
        (0.995, 1, False)

    References:
        Betancourt (2017), A Conceptual Introduction to Hamiltonian Monte Carlo, arXiv:1701.02434, appendix A.
    """
    z, p, u, g = leapfrog(z, p, g, signed_step, inv_mass, energy_and_grad)
    p_sharp = velocity(p, inv_mass)
    h = u + 0.5 * (p * p_sharp).sum(-1)
    delta = h - h0
    delta = torch.where(torch.isnan(delta), torch.full_like(delta, float("inf")), delta)
    accept_sum = accept_sum + torch.where(live, torch.exp(-delta).clamp(max=1.0), torch.zeros_like(delta))
    n_steps = n_steps + live.to(n_steps.dtype)
    divergent = delta > max_delta_energy
    diverging = diverging | (live & divergent)
    new_log_weight = torch.logaddexp(sub_log_weight, -delta)
    take = live & (uniform < torch.exp(-delta - new_log_weight))
    take_col = take.unsqueeze(-1)
    sub_z = torch.where(take_col, z, sub_z)
    sub_g = torch.where(take_col, g, sub_g)
    sub_u = torch.where(take, u, sub_u)
    sub_h = torch.where(take, h, sub_h)
    sub_log_weight = torch.where(live, new_log_weight, sub_log_weight)
    return (
        z,
        p,
        g,
        u,
        p_sharp,
        divergent,
        sub_log_weight,
        sub_z,
        sub_u,
        sub_g,
        sub_h,
        accept_sum,
        n_steps,
        diverging,
    )


def tree_leaf(
    z: torch.Tensor,
    p: torch.Tensor,
    g: torch.Tensor,
    signed_step: torch.Tensor,
    inv_mass: torch.Tensor,
    h0: torch.Tensor,
    live: torch.Tensor,
    uniform: torch.Tensor,
    sub_log_weight: torch.Tensor,
    sub_z: torch.Tensor,
    sub_u: torch.Tensor,
    sub_g: torch.Tensor,
    sub_h: torch.Tensor,
    sub_rho: torch.Tensor,
    checkpoint_p_sharp: torch.Tensor,
    checkpoint_rho: torch.Tensor,
    accept_sum: torch.Tensor,
    n_steps: torch.Tensor,
    diverging: torch.Tensor,
    leaf: torch.Tensor,
    depth: torch.Tensor,
    levels: torch.Tensor,
    energy_and_grad: EnergyAndGrad,
    max_delta_energy: float = 1000.0,
) -> tuple[torch.Tensor, ...]:
    """One leaf of the subtree being built: :func:`trajectory_step` and the no-U-turn checks it closes, without the host.

    Leaf n (0-based) of the subtree built at doubling j closes every balanced sub-tree of 2^k leaves
    (1 <= k <= j) that ends at it, i.e. those with (n + 1) mod 2^k = 0; the sub-tree that starts at
    leaf n (n mod 2^k = 0) stores its first p# and the summed momentum before it in checkpoint k.
    The checkpoints of all levels live in one buffer [K, C, D] and the level masks are computed from
    the tensors ``leaf`` (n) and ``depth`` (j), so one call does the same work for every leaf, with no
    Python branching on n and no host synchronisation.

    Arguments:
        z, p, g, signed_step, inv_mass, h0, live, uniform, sub_log_weight, sub_z, sub_u, sub_g, sub_h,
            accept_sum, n_steps, diverging: as in :func:`trajectory_step`.
        sub_rho: the summed momenta of the subtree's leaves so far, [C, D].
        checkpoint_p_sharp, checkpoint_rho: the checkpoint buffers, [K, C, D] each, K > j.
        leaf, depth: n and j as long tensors of shape [1] (or 0-dim).
        levels: the levels 0, 1, ..., K - 1 as a long tensor [K].
        energy_and_grad, max_delta_energy: as in :func:`trajectory_step`.

    Returns:
        ``(z, p, g, live, sub_log_weight, sub_z, sub_u, sub_g, sub_h, sub_rho, checkpoint_p_sharp, checkpoint_rho,
        accept_sum, n_steps, diverging, any_live)``, with ``live`` now False for chains whose subtree turned or
        diverged at this leaf and ``any_live`` a 0-dim bool.

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> z, h0, zero = torch.ones(1, 1), torch.tensor([0.5]), torch.zeros(1, 1)
        >>> ckpt = torch.zeros(3, 1, 1)
        >>> out = tree_leaf(z, zero, z, torch.full((1, 1), 0.1), torch.ones(1, 1), h0, torch.tensor([True]),
        ...                 torch.tensor([0.0]), torch.tensor([float("-inf")]), z, h0, z, h0, zero, ckpt, ckpt,
        ...                 torch.zeros(1), torch.zeros(1, dtype=torch.long), torch.tensor([False]), torch.tensor(0),
        ...                 torch.tensor(0), torch.arange(3), energy_and_grad=f)
        >>> round(float(out[0]), 4), bool(out[3]), bool(out[15])
        (0.995, True, True)

    References:
        Betancourt (2017), A Conceptual Introduction to Hamiltonian Monte Carlo, arXiv:1701.02434, appendix A.
    """
    (
        z,
        p,
        g,
        _,
        p_sharp,
        divergent,
        sub_log_weight,
        sub_z,
        sub_u,
        sub_g,
        sub_h,
        accept_sum,
        n_steps,
        diverging,
    ) = trajectory_step(
        z,
        p,
        g,
        signed_step,
        inv_mass,
        h0,
        live,
        uniform,
        sub_log_weight,
        sub_z,
        sub_u,
        sub_g,
        sub_h,
        accept_sum,
        n_steps,
        diverging,
        energy_and_grad,
        max_delta_energy,
    )
    span = torch.bitwise_left_shift(torch.ones_like(levels), levels)  # 2^k
    active = (levels >= 1) & (levels <= depth)
    store = (active & (torch.remainder(leaf, span) == 0)).view(-1, 1, 1)
    check = (active & (torch.remainder(leaf + 1, span) == 0)).view(-1, 1)
    checkpoint_p_sharp = torch.where(store, p_sharp.unsqueeze(0), checkpoint_p_sharp)
    checkpoint_rho = torch.where(store, sub_rho.unsqueeze(0), checkpoint_rho)
    sub_rho = sub_rho + p
    turned = _turned(
        checkpoint_p_sharp, p_sharp.unsqueeze(0), sub_rho.unsqueeze(0) - checkpoint_rho
    )  # [K, C]
    live = live & ~(divergent | (turned & check).any(0))
    return (
        z,
        p,
        g,
        live,
        sub_log_weight,
        sub_z,
        sub_u,
        sub_g,
        sub_h,
        sub_rho,
        checkpoint_p_sharp,
        checkpoint_rho,
        accept_sum,
        n_steps,
        diverging,
        live.any(),
    )


def tree_boundary(
    merge: torch.Tensor,
    start: torch.Tensor,
    step: torch.Tensor,
    inv_mass: torch.Tensor,
    h0: torch.Tensor,
    uniform_merge: torch.Tensor,
    uniform_direction: torch.Tensor,
    z_minus: torch.Tensor,
    p_minus: torch.Tensor,
    g_minus: torch.Tensor,
    z_plus: torch.Tensor,
    p_plus: torch.Tensor,
    g_plus: torch.Tensor,
    rho: torch.Tensor,
    draw_z: torch.Tensor,
    draw_u: torch.Tensor,
    draw_g: torch.Tensor,
    draw_h: torch.Tensor,
    log_weight: torch.Tensor,
    running: torch.Tensor,
    depth: torch.Tensor,
    forward: torch.Tensor,
    z: torch.Tensor,
    p: torch.Tensor,
    g: torch.Tensor,
    sub_valid: torch.Tensor,
    sub_log_weight: torch.Tensor,
    sub_rho: torch.Tensor,
    sub_z: torch.Tensor,
    sub_u: torch.Tensor,
    sub_g: torch.Tensor,
    sub_h: torch.Tensor,
) -> tuple[torch.Tensor, ...]:
    """Between two doublings: merge the finished subtree into the trajectory, then start the next subtree.

    The merge (when ``merge`` is True) takes the subtree's draw with probability
    min(1, w_subtree / w_trajectory) (biased progressive sampling), extends the trajectory end on the
    side the subtree grew, and stops chains whose whole trajectory now fails the no-U-turn test. The
    start (when ``start`` is True) picks each running chain's direction (forwards when
    ``uniform_direction`` < 1/2), counts the doubling in ``depth``, and resets the subtree's state at
    that end of the trajectory. Chains whose subtree turned or diverged are not merged and stop.

    Arguments:
        merge, start: bools of shape [1] (or 0-dim): whether to merge a finished subtree, and whether to start a new one.
        step: step sizes [C, 1]; inv_mass: inverse mass matrices; h0: the initial Hamiltonian [C].
        uniform_merge, uniform_direction: uniform variates [C] for the merge choice and the direction.
        z_minus, p_minus, g_minus, z_plus, p_plus, g_plus: the two ends of the trajectory.
        rho: the summed momenta of the trajectory; draw_z, draw_u, draw_g, draw_h: its current draw;
            log_weight: log of its summed weights; running: which chains still double; depth: doublings so far.
        forward, z, p, g, sub_valid, sub_log_weight, sub_rho, sub_z, sub_u, sub_g, sub_h: the subtree
            (direction, end point, validity, weights, summed momenta, draw).

    Returns:
        ``(z_minus, p_minus, g_minus, z_plus, p_plus, g_plus, rho, draw_z, draw_u, draw_g, draw_h, log_weight,
        running, depth, forward, signed_step, z, p, g, sub_valid, sub_log_weight, sub_rho, sub_z, sub_u, sub_g,
        sub_h, any_running)``.

    Example:
        >>> t, f, c = torch.tensor(True), torch.tensor(False), torch.ones(1, 1)
        >>> h, one = torch.zeros(1), torch.tensor([True])
        >>> out = tree_boundary(f, t, c, c, h, h, h, c, c, c, c, c, c, c, c, h, c, h, h, one,
        ...                     torch.zeros(1, dtype=torch.long), one, c, c, c, one, h, c, c, h, c, h)
        >>> int(out[13]), bool(out[14]), float(out[15])  # one doubling, forwards (0 < 1/2), step +1
        (1, True, 1.0)

    References:
        Betancourt (2017), A Conceptual Introduction to Hamiltonian Monte Carlo, arXiv:1701.02434, appendix A.
    """
    ok = sub_valid & merge
    take = ok & (uniform_merge < torch.exp(sub_log_weight - log_weight))
    draw_z, draw_u, draw_g, draw_h = (
        _where(take, sub_z, draw_z),
        torch.where(take, sub_u, draw_u),
        _where(take, sub_g, draw_g),
        torch.where(take, sub_h, draw_h),
    )
    log_weight = torch.where(ok, torch.logaddexp(log_weight, sub_log_weight), log_weight)
    grow_plus, grow_minus = ok & forward, ok & ~forward
    z_plus, p_plus, g_plus = (
        _where(grow_plus, z, z_plus),
        _where(grow_plus, p, p_plus),
        _where(grow_plus, g, g_plus),
    )
    z_minus, p_minus, g_minus = (
        _where(grow_minus, z, z_minus),
        _where(grow_minus, p, p_minus),
        _where(grow_minus, g, g_minus),
    )
    rho = _where(ok, rho + sub_rho, rho)
    merged_running = ok & ~_turned(velocity(p_minus, inv_mass), velocity(p_plus, inv_mass), rho)
    running = torch.where(merge, merged_running, running)

    depth = depth + (running & start).to(depth.dtype)
    forward = uniform_direction < 0.5
    signed_step = torch.where(forward.unsqueeze(-1), step, -step)
    z, p, g = (
        _where(forward, z_plus, z_minus),
        _where(forward, p_plus, p_minus),
        _where(forward, g_plus, g_minus),
    )
    return (
        z_minus,
        p_minus,
        g_minus,
        z_plus,
        p_plus,
        g_plus,
        rho,
        draw_z,
        draw_u,
        draw_g,
        draw_h,
        log_weight,
        running,
        depth,
        forward,
        signed_step,
        z,
        p,
        g,
        running & start,
        torch.full_like(log_weight, float("-inf")),
        torch.zeros_like(sub_rho),
        z,
        h0,
        g,
        h0,
        running.any(),
    )


@dataclass
class NutsKernels:
    """The two functions a NUTS transition calls: :func:`tree_leaf` and :func:`tree_boundary` with the potential bound.

    Attributes:
        leaf: ``tree_leaf`` without its ``energy_and_grad``/``max_delta_energy`` arguments (eager, traced or compiled).
        boundary: ``tree_boundary`` (eager, traced or compiled).
        backend: ``"eager"``, ``"jit"`` (TorchScript trace) or ``"inductor"`` (one fused kernel per function).

    Example:
        >>> kernels = NutsKernels.eager(lambda z: (0.5 * (z ** 2).sum(-1), z))
        >>> kernels.backend
        'eager'
    """

    leaf: Callable
    boundary: Callable
    backend: str = "eager"

    @classmethod
    def eager(cls, energy_and_grad: EnergyAndGrad, max_delta_energy: float = 1000.0) -> NutsKernels:
        """The eager kernels for a potential.

        Arguments:
            energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).
            max_delta_energy: the divergence threshold.

        Returns:
            :class:`NutsKernels` running :func:`tree_leaf` and :func:`tree_boundary` op by op.
        """

        def leaf(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
            return tree_leaf(*tensors, energy_and_grad=energy_and_grad, max_delta_energy=max_delta_energy)

        return cls(leaf, tree_boundary, "eager")


#: per-device small constant tensors (leaf and doubling indices, flags), so a transition creates none per step;
#: each is its own tensor (no views with a storage offset), as compiled kernels expect
_INDEX_CACHE: dict[
    tuple[str, int], tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]
] = {}


def _indices(
    device: torch.device, max_tree_depth: int
) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    key = (str(device), max_tree_depth)
    if key not in _INDEX_CACHE:
        # shape [1]: they broadcast against the per-chain [C] tensors like 0-dim ones would
        leaves = [torch.tensor([n], device=device) for n in range(2 ** (max_tree_depth - 1))]
        depths = [torch.tensor([j], device=device) for j in range(max_tree_depth)]
        _INDEX_CACHE[key] = (
            leaves,
            depths,
            torch.arange(max_tree_depth + 1, device=device),
            torch.tensor([False], device=device),
            torch.tensor([True], device=device),
        )
    return _INDEX_CACHE[key]


def nuts_transition(
    state: ChainState,
    step_size: torch.Tensor,
    inv_mass: torch.Tensor,
    energy_and_grad: EnergyAndGrad,
    generator: torch.Generator,
    max_tree_depth: int = 10,
    max_delta_energy: float = 1000.0,
    kernels: NutsKernels | None = None,
) -> tuple[ChainState, dict[str, torch.Tensor]]:
    """Draw the next state of every chain with NUTS.

    The host only counts: each leapfrog step is one call of ``kernels.leaf`` and each doubling one call
    of ``kernels.boundary``, whatever the backend. The host reads one flag per leaf on the CPU (to stop a
    subtree early when every chain has turned), and on other devices only after leaves 1, 2, 4, 8, ...
    of each subtree and after each doubling, so a GPU queue is not drained at every step (a stopped
    chain is frozen by masks, so reading the flag later changes the cost, not the draws).

    Arguments:
        state: the current states of C chains.
        step_size: per-chain step sizes [C].
        inv_mass: per-chain inverse mass matrices: diagonals [C, D] or dense [C, D, D].
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]) (used when ``kernels`` is None).
        generator: the random generator (momenta, directions, multinomial choices).
        max_tree_depth: the largest number of doublings (at most 2^depth - 1 leapfrog steps).
        max_delta_energy: an energy error H - H0 above this marks a divergence (when ``kernels`` is None).
        kernels: traced or compiled :class:`NutsKernels` (see :func:`compile_nuts_kernels`); None runs
            them eagerly.

    Returns:
        The new state and per-chain statistics: ``energy`` (H at the draw), ``diverging``,
        ``tree_depth``, ``n_steps``, ``acceptance_rate`` (mean min(1, exp(H0 - H)) over the
        trajectory, the statistic dual averaging targets), ``reached_max_treedepth``.

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> s = ChainState(torch.zeros(3, 2), torch.zeros(3), torch.zeros(3, 2))
        >>> s, stats = nuts_transition(s, torch.full((3,), 0.5), torch.ones(3, 2), f, torch.Generator().manual_seed(0))
        >>> tuple(s.z.shape), sorted(stats)[:3]
        ((3, 2), ['acceptance_rate', 'diverging', 'energy'])

    References:
        Hoffman & Gelman (2014), The No-U-Turn Sampler, arXiv:1111.4246;
        Betancourt (2017), A Conceptual Introduction to Hamiltonian Monte Carlo, arXiv:1701.02434
        (multinomial sampling, generalised no-U-turn criterion).
    """
    if kernels is None:
        kernels = NutsKernels.eager(energy_and_grad, max_delta_energy)
    z0, u0, g0 = state.z, state.energy, state.grad
    num_chains, _ = z0.shape
    opts = {"dtype": z0.dtype, "device": z0.device}
    leaves, depths, levels, false, true = _indices(z0.device, max_tree_depth)
    sync_every_leaf = z0.device.type == "cpu"
    p0 = sample_momentum(z0, inv_mass, generator)
    h0 = u0 + kinetic_energy(p0, inv_mass)
    h0 = torch.where(torch.isfinite(h0), h0, torch.full_like(h0, float("inf")))
    step = step_size.unsqueeze(-1)

    def uniform() -> torch.Tensor:
        return torch.rand(num_chains, generator=generator, **opts)

    running = torch.ones(num_chains, dtype=torch.bool, device=z0.device)
    depth = torch.zeros(num_chains, dtype=torch.long, device=z0.device)
    n_steps = torch.zeros(num_chains, dtype=torch.long, device=z0.device)
    accept_sum = torch.zeros(num_chains, **opts)
    diverging = torch.zeros(num_chains, dtype=torch.bool, device=z0.device)
    log_weight = torch.zeros(num_chains, **opts)
    checkpoint_p_sharp = torch.zeros(max_tree_depth + 1, *z0.shape, **opts)
    checkpoint_rho = torch.zeros_like(checkpoint_p_sharp)
    # trajectory (ends, summed momenta, draw, weights, running, depth) and subtree (direction, end, validity,
    # weights, summed momenta, draw); the first boundary call starts the first subtree without merging
    trajectory = (z0, p0, g0, z0, p0, g0, p0, z0, u0, g0, h0, log_weight, running, depth)
    subtree = (running, z0, p0, g0, ~running, log_weight, p0, z0, u0, g0, h0)
    out = kernels.boundary(false, true, step, inv_mass, h0, log_weight, uniform(), *trajectory, *subtree)
    for j in range(max_tree_depth):
        (
            trajectory,
            (forward, signed_step, z, p, g, sub_valid, sub_log_weight, sub_rho, sub_z, sub_u, sub_g, sub_h),
        ) = out[:14], out[14:26]
        length = 2**j
        for n in range(length):
            (
                z,
                p,
                g,
                sub_valid,
                sub_log_weight,
                sub_z,
                sub_u,
                sub_g,
                sub_h,
                sub_rho,
                checkpoint_p_sharp,
                checkpoint_rho,
                accept_sum,
                n_steps,
                diverging,
                any_live,
            ) = kernels.leaf(
                z,
                p,
                g,
                signed_step,
                inv_mass,
                h0,
                sub_valid,
                uniform(),
                sub_log_weight,
                sub_z,
                sub_u,
                sub_g,
                sub_h,
                sub_rho,
                checkpoint_p_sharp,
                checkpoint_rho,
                accept_sum,
                n_steps,
                diverging,
                leaves[n],
                depths[j],
                levels,
            )
            if n + 1 < length and (sync_every_leaf or ((n + 1) & n) == 0) and not bool(any_live):
                break
        last = j + 1 == max_tree_depth
        uniform_merge = uniform()
        out = kernels.boundary(
            true,
            false if last else true,
            step,
            inv_mass,
            h0,
            uniform_merge,
            log_weight if last else uniform(),
            *trajectory,
            forward,
            z,
            p,
            g,
            sub_valid,
            sub_log_weight,
            sub_rho,
            sub_z,
            sub_u,
            sub_g,
            sub_h,
        )
        if last or not bool(out[-1]):
            break
    (_, _, _, _, _, _, _, draw_z, draw_u, draw_g, draw_h, _, _, depth) = out[:14]
    stats = {
        "energy": draw_h,
        "diverging": diverging,
        "tree_depth": depth,
        "n_steps": n_steps,
        "acceptance_rate": accept_sum / n_steps.clamp(min=1).to(accept_sum.dtype),
        "reached_max_treedepth": depth >= max_tree_depth,
    }
    return ChainState(draw_z, draw_u, draw_g), stats
