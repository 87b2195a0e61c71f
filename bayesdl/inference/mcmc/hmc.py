"""One transition of static-length Hamiltonian Monte Carlo for a batch of chains, with step-size jitter."""

from __future__ import annotations

import torch

from ...errors import InputError
from .integrator import EnergyAndGrad, kinetic_energy, leapfrog, sample_momentum
from .nuts import ChainState, _where

DEFAULT_STEP_SIZE_JITTER = 0.2


def jittered_step_size(step_size: torch.Tensor, jitter: float, generator: torch.Generator) -> torch.Tensor:
    """Per-chain step sizes drawn uniformly from [(1 - j) e, (1 + j) e] around the nominal step sizes e [C].

    Arguments:
        step_size: the nominal (adapted) step sizes e [C].
        jitter: j in [0, 1); 0 returns ``step_size`` itself and draws nothing from ``generator``.
        generator: the random generator (one uniform draw per chain).

    Returns:
        Step sizes [C] for this transition; their mean over draws is the nominal step size.

    Example:
        >>> eps = jittered_step_size(torch.ones(3), 0.2, torch.Generator().manual_seed(0))
        >>> bool(((eps >= 0.8) & (eps <= 1.2)).all())
        True
    """
    if jitter == 0.0:
        return step_size
    u = torch.rand(step_size.shape, generator=generator, dtype=step_size.dtype, device=step_size.device)
    return step_size * (1.0 + jitter * (2.0 * u - 1.0))


def hmc_transition(
    state: ChainState,
    step_size: torch.Tensor,
    inv_mass: torch.Tensor,
    energy_and_grad: EnergyAndGrad,
    generator: torch.Generator,
    num_steps: int = 10,
    max_delta_energy: float = 1000.0,
    step_size_jitter: float = DEFAULT_STEP_SIZE_JITTER,
) -> tuple[ChainState, dict[str, torch.Tensor]]:
    """Draw the next state of every chain by ``num_steps`` leapfrog steps and a Metropolis correction.

    Each transition draws a fresh momentum p ~ N(0, M), runs L = ``num_steps`` leapfrog steps of size
    e_t, and accepts the end point with probability min(1, exp(H(z, p) - H(z', p'))). The step size
    of each chain is drawn afresh at every transition, e_t ~ Uniform[(1 - j) e, (1 + j) e] with
    j = ``step_size_jitter`` (default 0.2), independently per chain. With a fixed e, the trajectory
    length L e can sit near a period (or half-period) of the target's dynamics: on a Gaussian with an
    adapted mass matrix every coordinate oscillates with the same period, and a chain whose L e is
    close to it returns almost to where it started at every transition, so it barely moves. Random
    step sizes break that resonance (Neal 2011, section 5.4; Stan's ``stepsize_jitter``). Detailed
    balance holds for each e_t, so the mixture kernel leaves the target invariant. Step-size
    adaptation (dual averaging) tunes the nominal e from the acceptance of jittered transitions.

    Arguments:
        state: the current states of C chains.
        step_size: per-chain nominal step sizes e [C].
        inv_mass: per-chain inverse mass matrices, diagonals [C, D] or dense [C, D, D].
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).
        generator: the random generator (momenta, jitter and the accept draws: a seed fixes the draws).
        num_steps: L, the number of leapfrog steps per transition.
        max_delta_energy: an energy error above this marks a divergence.
        step_size_jitter: j in [0, 1), the relative half-width of the uniform step-size jitter; 0 gives
            static HMC with the nominal step sizes.

    Returns:
        The new state and per-chain statistics with the same keys as NUTS (tree_depth is 0).

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> s = ChainState(torch.zeros(2, 1), torch.zeros(2), torch.zeros(2, 1))
        >>> s, stats = hmc_transition(s, torch.full((2,), 0.3), torch.ones(2, 1), f, torch.Generator().manual_seed(0))
        >>> stats["n_steps"].tolist()
        [10, 10]

    References:
        Duane et al. (1987), Hybrid Monte Carlo, Phys. Lett. B 195; Neal (2011), MCMC using Hamiltonian
        dynamics, arXiv:1206.1901, section 5.4 (randomising the step size or the number of steps);
        Mackenzie (1989), An improved hybrid Monte Carlo method, Phys. Lett. B 226.
    """
    if not 0.0 <= float(step_size_jitter) < 1.0:
        raise InputError(f"step_size_jitter must lie in [0, 1), got {step_size_jitter}")
    z, u, g = state.z, state.energy, state.grad
    num_chains = z.shape[0]
    p = sample_momentum(z, inv_mass, generator)
    h0 = u + kinetic_energy(p, inv_mass)
    step = jittered_step_size(step_size, float(step_size_jitter), generator).unsqueeze(-1)
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
