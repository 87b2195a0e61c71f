"""One transition of static-length Hamiltonian Monte Carlo for a batch of chains."""

from __future__ import annotations

import torch

from .integrator import EnergyAndGrad, kinetic_energy, leapfrog
from .nuts import ChainState, _where


def hmc_transition(state: ChainState, step_size: torch.Tensor, inv_mass: torch.Tensor, energy_and_grad: EnergyAndGrad,
                   generator: torch.Generator, num_steps: int = 10,
                   max_delta_energy: float = 1000.0) -> tuple[ChainState, dict[str, torch.Tensor]]:
    """Draw the next state of every chain by ``num_steps`` leapfrog steps and a Metropolis correction.

    Arguments:
        state: the current states of C chains.
        step_size: per-chain step sizes [C].
        inv_mass: per-chain diagonal inverse mass matrices [C, D].
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).
        generator: the random generator.
        num_steps: L, the number of leapfrog steps per transition.
        max_delta_energy: an energy error above this marks a divergence.

    Returns:
        The new state and per-chain statistics with the same keys as NUTS (tree_depth is 0).

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> s = ChainState(torch.zeros(2, 1), torch.zeros(2), torch.zeros(2, 1))
        >>> s, stats = hmc_transition(s, torch.full((2,), 0.3), torch.ones(2, 1), f, torch.Generator().manual_seed(0))
        >>> stats["n_steps"].tolist()
        [10, 10]

    References:
        Duane et al. (1987), Hybrid Monte Carlo, Phys. Lett. B 195; Neal (2011), arXiv:1206.1901.
    """
    z, u, g = state.z, state.energy, state.grad
    num_chains = z.shape[0]
    p = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device) * inv_mass.rsqrt()
    h0 = u + kinetic_energy(p, inv_mass)
    step = step_size.unsqueeze(-1)
    zn, pn, un, gn = z, p, u, g
    for _ in range(num_steps):
        zn, pn, un, gn = leapfrog(zn, pn, gn, step, inv_mass, energy_and_grad)
    h = un + kinetic_energy(pn, inv_mass)
    delta = h - h0
    delta = torch.where(torch.isnan(delta), torch.full_like(delta, float("inf")), delta)
    accept_prob = torch.exp(-delta).clamp(max=1.0)
    accept = torch.rand(num_chains, generator=generator, dtype=z.dtype, device=z.device) < accept_prob
    new = ChainState(_where(accept, zn, z), torch.where(accept, un, u), _where(accept, gn, g))
    full = torch.full((num_chains,), num_steps, dtype=torch.long, device=z.device)
    stats = {
        "energy": torch.where(accept, h, h0),
        "diverging": delta > max_delta_energy,
        "tree_depth": torch.zeros_like(full),
        "n_steps": full,
        "acceptance_rate": accept_prob,
        "reached_max_treedepth": torch.zeros(num_chains, dtype=torch.bool, device=z.device),
    }
    return new, stats
