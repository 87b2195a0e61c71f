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

from dataclasses import dataclass

import torch

from .integrator import EnergyAndGrad, kinetic_energy, leapfrog


@dataclass
class ChainState:
    """Position z [C, D], its potential energy U [C] and gradient dU/dz [C, D]."""

    z: torch.Tensor
    energy: torch.Tensor
    grad: torch.Tensor


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Select per chain: mask [C] broadcast over the trailing dimensions of a and b."""
    return torch.where(mask.view(-1, *([1] * (a.dim() - 1))), a, b)


def _turned(p_sharp_start: torch.Tensor, p_sharp_end: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """The generalised no-U-turn test fails (the trajectory has turned) for chains where it returns True."""
    return ((p_sharp_start * rho).sum(-1) <= 0) | ((p_sharp_end * rho).sum(-1) <= 0)


def nuts_transition(state: ChainState, step_size: torch.Tensor, inv_mass: torch.Tensor, energy_and_grad: EnergyAndGrad,
                    generator: torch.Generator, max_tree_depth: int = 10,
                    max_delta_energy: float = 1000.0) -> tuple[ChainState, dict[str, torch.Tensor]]:
    """Draw the next state of every chain with NUTS.

    Arguments:
        state: the current states of C chains.
        step_size: per-chain step sizes [C].
        inv_mass: per-chain diagonal inverse mass matrices [C, D].
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).
        generator: the random generator (momenta, directions, multinomial choices).
        max_tree_depth: the largest number of doublings (at most 2^depth - 1 leapfrog steps).
        max_delta_energy: an energy error H - H0 above this marks a divergence.

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
    p0 = torch.randn(z0.shape, generator=generator, **opts) * inv_mass.rsqrt()
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
        for n in range(length):
            z, p, u, g = leapfrog(z, p, g, signed_step, inv_mass, energy_and_grad)
            h = u + kinetic_energy(p, inv_mass)
            delta = h - h0
            delta = torch.where(torch.isnan(delta), torch.full_like(delta, float("inf")), delta)
            live = sub_valid
            accept_sum = accept_sum + torch.where(live, torch.exp(-delta).clamp(max=1.0), torch.zeros_like(delta))
            n_steps = n_steps + live.long()
            divergent = delta > max_delta_energy
            diverging = diverging | (live & divergent)

            # uniform multinomial sampling inside the subtree (progressive form)
            new_log_weight = torch.logaddexp(sub_log_weight, -delta)
            take = live & (torch.rand(num_chains, generator=generator, **opts) < torch.exp(-delta - new_log_weight))
            sub_z, sub_u, sub_g, sub_h = _where(take, z, sub_z), torch.where(take, u, sub_u), _where(take, g, sub_g), torch.where(take, h, sub_h)
            sub_log_weight = torch.where(live, new_log_weight, sub_log_weight)

            # no-U-turn checks on every balanced sub-tree that ends at this step
            p_sharp = p * inv_mass
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
        running = ok & ~_turned(p_minus * inv_mass, p_plus * inv_mass, rho)
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
