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


def trajectory_step(z: torch.Tensor, p: torch.Tensor, g: torch.Tensor, signed_step: torch.Tensor, inv_mass: torch.Tensor,
                    h0: torch.Tensor, live: torch.Tensor, uniform: torch.Tensor, sub_log_weight: torch.Tensor,
                    sub_z: torch.Tensor, sub_u: torch.Tensor, sub_g: torch.Tensor, sub_h: torch.Tensor,
                    accept_sum: torch.Tensor, n_steps: torch.Tensor, diverging: torch.Tensor,
                    energy_and_grad: EnergyAndGrad, max_delta_energy: float = 1000.0) -> tuple[torch.Tensor, ...]:
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
    return z, p, g, u, p_sharp, divergent, sub_log_weight, sub_z, sub_u, sub_g, sub_h, accept_sum, n_steps, diverging


def nuts_transition(state: ChainState, step_size: torch.Tensor, inv_mass: torch.Tensor, energy_and_grad: EnergyAndGrad,
                    generator: torch.Generator, max_tree_depth: int = 10,
                    max_delta_energy: float = 1000.0, step_fn: Callable | None = None) -> tuple[ChainState, dict[str, torch.Tensor]]:
    """Draw the next state of every chain with NUTS.

    Arguments:
        state: the current states of C chains.
        step_size: per-chain step sizes [C].
        inv_mass: per-chain inverse mass matrices: diagonals [C, D] or dense [C, D, D].
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).
        generator: the random generator (momenta, directions, multinomial choices).
        max_tree_depth: the largest number of doublings (at most 2^depth - 1 leapfrog steps).
        max_delta_energy: an energy error H - H0 above this marks a divergence.
        step_fn: an optional compiled (traced) version of :func:`trajectory_step` with the potential
            and ``max_delta_energy`` bound, taking the same tensors in the same order.

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
    z0, u0, g0 = state.z, state.energy, state.grad
    num_chains, _ = z0.shape
    opts = {"dtype": z0.dtype, "device": z0.device}
    p0 = sample_momentum(z0, inv_mass, generator)
    h0 = u0 + kinetic_energy(p0, inv_mass)
    h0 = torch.where(torch.isfinite(h0), h0, torch.full_like(h0, float("inf")))
    step = step_size.unsqueeze(-1)

    # trajectory ends (minus, plus), summed momentum, and the current draw
    z_minus, p_minus, g_minus = z0, p0, g0
    z_plus, p_plus, g_plus = z0, p0, g0
    rho = p0
    draw_z, draw_u, draw_g, draw_h = z0, u0, g0, h0
    log_weight = torch.zeros(num_chains, **opts)

    running = torch.ones(num_chains, dtype=torch.bool, device=z0.device)
    depth = torch.zeros(num_chains, dtype=torch.long, device=z0.device)
    n_steps = torch.zeros(num_chains, dtype=torch.long, device=z0.device)
    accept_sum = torch.zeros(num_chains, **opts)
    diverging = torch.zeros(num_chains, dtype=torch.bool, device=z0.device)
    neg_inf = torch.full((num_chains,), float("-inf"), **opts)

    for j in range(max_tree_depth):
        depth = depth + running.long()
        forward = torch.rand(num_chains, generator=generator, **opts) < 0.5
        signed_step = torch.where(forward.unsqueeze(-1), step, -step)
        z = _where(forward, z_plus, z_minus)
        p = _where(forward, p_plus, p_minus)
        g = _where(forward, g_plus, g_minus)

        sub_valid = running.clone()
        sub_log_weight = neg_inf
        sub_rho = torch.zeros_like(z0)
        sub_z, sub_u, sub_g, sub_h = z, h0, g, h0
        checkpoint_p_sharp: list[torch.Tensor | None] = [None] * (j + 1)
        checkpoint_rho: list[torch.Tensor | None] = [None] * (j + 1)
        length = 2 ** j
        uniforms = torch.rand(length, num_chains, generator=generator, **opts)
        for n in range(length):
            args = (z, p, g, signed_step, inv_mass, h0, sub_valid, uniforms[n], sub_log_weight, sub_z, sub_u, sub_g,
                    sub_h, accept_sum, n_steps, diverging)
            if step_fn is not None:
                out = step_fn(*args)
            else:
                out = trajectory_step(*args, energy_and_grad=energy_and_grad, max_delta_energy=max_delta_energy)
            (z, p, g, u, p_sharp, divergent, sub_log_weight, sub_z, sub_u, sub_g, sub_h, accept_sum, n_steps,
             diverging) = out

            # no-U-turn checks on every balanced sub-tree that ends at this step
            for k in range(1, j + 1):
                if n % (2 ** k) == 0:
                    checkpoint_p_sharp[k], checkpoint_rho[k] = p_sharp, sub_rho
            sub_rho = sub_rho + p
            turned = divergent
            for k in range(1, j + 1):
                if (n + 1) % (2 ** k) == 0:
                    turned = turned | _turned(checkpoint_p_sharp[k], p_sharp, sub_rho - checkpoint_rho[k])
            sub_valid = sub_valid & ~turned
            if n + 1 < length and not bool(sub_valid.any()):
                break

        # merge the new subtree into the trajectory (biased progressive sampling)
        ok = sub_valid
        take = ok & (torch.rand(num_chains, generator=generator, **opts) < torch.exp(sub_log_weight - log_weight))
        draw_z, draw_u, draw_g, draw_h = _where(take, sub_z, draw_z), torch.where(take, sub_u, draw_u), _where(take, sub_g, draw_g), torch.where(take, sub_h, draw_h)
        log_weight = torch.where(ok, torch.logaddexp(log_weight, sub_log_weight), log_weight)
        grow_plus, grow_minus = ok & forward, ok & ~forward
        z_plus, p_plus, g_plus = _where(grow_plus, z, z_plus), _where(grow_plus, p, p_plus), _where(grow_plus, g, g_plus)
        z_minus, p_minus, g_minus = _where(grow_minus, z, z_minus), _where(grow_minus, p, p_minus), _where(grow_minus, g, g_minus)
        rho = _where(ok, rho + sub_rho, rho)
        running = ok & ~_turned(velocity(p_minus, inv_mass), velocity(p_plus, inv_mass), rho)
        if not bool(running.any()):
            break

    stats = {
        "energy": draw_h,
        "diverging": diverging,
        "tree_depth": depth,
        "n_steps": n_steps,
        "acceptance_rate": accept_sum / n_steps.clamp(min=1).to(accept_sum.dtype),
        "reached_max_treedepth": depth >= max_tree_depth,
    }
    return ChainState(draw_z, draw_u, draw_g), stats


def compile_trajectory_step(energy_and_grad: EnergyAndGrad, state: ChainState, max_delta_energy: float = 1000.0,
                            inv_mass: torch.Tensor | None = None) -> Callable | None:
    """Trace :func:`trajectory_step` (leapfrog, potential and bookkeeping) into one TorchScript graph.

    One traced call replaces some thirty eager tensor operations per leapfrog step, which is
    most of NUTS's per-step overhead for small models. Returns None if tracing fails or the traced
    step disagrees with the eager one on the example state.

    Arguments:
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]); it must be traceable (no data-dependent
            Python control flow).
        state: an example state of the chains, used for tracing and for the agreement check.
        max_delta_energy: the divergence threshold bound into the traced step.
        inv_mass: an example inverse mass matrix, [C, D] diagonals (the default, ones) or dense [C, D, D];
            the traced step accepts only that layout.

    Returns:
        The traced step (to pass as ``step_fn`` to :func:`nuts_transition`), or None.

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> state = ChainState(torch.ones(2, 3), torch.full((2,), 1.5), torch.ones(2, 3))
        >>> step = compile_trajectory_step(f, state)
        >>> s = ChainState(torch.zeros(2, 3), torch.zeros(2), torch.zeros(2, 3))
        >>> args = (s, torch.full((2,), 0.5), torch.ones(2, 3), f)
        >>> fast, _ = nuts_transition(*args, torch.Generator().manual_seed(1), step_fn=step)
        >>> slow, _ = nuts_transition(*args, torch.Generator().manual_seed(1))
        >>> step is not None, torch.allclose(fast.z, slow.z)
        (True, True)
    """
    import warnings

    z, u, g = state.z, state.energy, state.grad
    num_chains = z.shape[0]
    flag = torch.ones(num_chains, dtype=torch.bool, device=z.device)
    example = (z, torch.zeros_like(z), g, torch.full((num_chains, 1), 1e-3, dtype=z.dtype, device=z.device),
               torch.ones_like(z) if inv_mass is None else inv_mass, u + 0.0, flag, torch.full_like(u, 0.5), torch.full_like(u, float("-inf")),
               z, u, g, u, torch.zeros_like(u), torch.zeros(num_chains, dtype=torch.long, device=z.device), ~flag)
    def step(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return trajectory_step(*tensors, energy_and_grad=energy_and_grad, max_delta_energy=max_delta_energy)

    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(step, example, check_trace=False)
            fast, slow = traced(*example), step(*example)
    except Exception:  # noqa: BLE001 - stay eager if the step cannot be traced
        return None
    for a, b in zip(fast, slow):
        if a.dtype == torch.bool or not a.is_floating_point():
            if not torch.equal(a, b):
                return None
        elif not torch.allclose(a, b, rtol=1e-6, atol=1e-8, equal_nan=True):
            return None
    return traced
