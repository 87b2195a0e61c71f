"""The leapfrog (Stoermer-Verlet) integrator for Hamiltonian dynamics, batched over chains.

H(z, p) = U(z) + 1/2 p^T M^{-1} p with a diagonal inverse mass matrix M^{-1} per chain. One step of
size e (a signed [C, 1] tensor, so each chain may move forwards or backwards in time):
p <- p - e/2 dU(z);  z <- z + e M^{-1} p;  p <- p - e/2 dU(z).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

EnergyAndGrad = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def kinetic_energy(p: torch.Tensor, inv_mass: torch.Tensor) -> torch.Tensor:
    """K(p) = 1/2 sum_i p_i^2 M^{-1}_ii for p [C, D], per chain [C].

    Arguments:
        p: momenta [C, D].
        inv_mass: diagonal inverse mass matrices [C, D] (or broadcastable to p).

    Returns:
        The kinetic energy of each chain, [C].

    Example:
        >>> kinetic_energy(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.5]])).tolist()
        [1.5]

    References:
        Neal (2011), MCMC using Hamiltonian dynamics, arXiv:1206.1901, section 2.2.
    """
    return 0.5 * (p * p * inv_mass).sum(-1)


def leapfrog(z: torch.Tensor, p: torch.Tensor, grad: torch.Tensor, step: torch.Tensor, inv_mass: torch.Tensor,
             energy_and_grad: EnergyAndGrad) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One leapfrog step for all chains.

    Arguments:
        z, p, grad: position, momentum and dU/dz at z, each [C, D].
        step: signed step sizes [C, 1].
        inv_mass: diagonal inverse mass matrix [C, D].
        energy_and_grad: z [C, D] -> (U [C], dU/dz [C, D]).

    Returns:
        ``(z, p, U, grad)`` after the step.

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> z, p, u, g = leapfrog(torch.ones(1, 1), torch.zeros(1, 1), torch.ones(1, 1), torch.full((1, 1), 0.1),
        ...                       torch.ones(1, 1), f)
        >>> round(float(z), 4), round(float(p), 5)
        (0.995, -0.09975)

    References:
        Neal (2011), MCMC using Hamiltonian dynamics, arXiv:1206.1901, section 2.3.
    """
    p_half = torch.addcmul(p, step, grad, value=-0.5)
    z_new = torch.addcmul(z, step * inv_mass, p_half)
    u_new, grad_new = energy_and_grad(z_new)
    p_new = torch.addcmul(p_half, step, grad_new, value=-0.5)
    return z_new, p_new, u_new, grad_new
