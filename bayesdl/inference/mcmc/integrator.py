"""The leapfrog (Stoermer-Verlet) integrator for Hamiltonian dynamics, batched over chains.

H(z, p) = U(z) + 1/2 p^T M^{-1} p with an inverse mass matrix M^{-1} per chain: diagonal (stored as its
diagonal, [C, D]) or dense ([C, D, D]). One step of size e (a signed [C, 1] tensor, so each chain may
move forwards or backwards in time):
p <- p - e/2 dU(z);  z <- z + e M^{-1} p;  p <- p - e/2 dU(z).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

EnergyAndGrad = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def velocity(p: torch.Tensor, inv_mass: torch.Tensor) -> torch.Tensor:
    """dK/dp = M^{-1} p for momenta p [C, D] and a diagonal [C, D] or dense [C, D, D] inverse mass matrix.

    Arguments:
        p: momenta [C, D].
        inv_mass: the diagonals of M^{-1}, [C, D] (or broadcastable to p), or dense M^{-1} [C, D, D].

    Returns:
        M^{-1} p, [C, D].

    Example:
        >>> velocity(torch.tensor([[1.0, 2.0]]), torch.tensor([[[2.0, 1.0], [1.0, 2.0]]])).tolist()
        [[4.0, 5.0]]
    """
    if inv_mass.dim() == p.dim() + 1:
        return torch.matmul(inv_mass, p.unsqueeze(-1)).squeeze(-1)
    return p * inv_mass


def sample_momentum(like: torch.Tensor, inv_mass: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Momenta p ~ N(0, M) for every chain, shaped like ``like`` [C, D].

    For a dense M^{-1} = L L^T (Cholesky), p = L^{-T} e with e ~ N(0, I) has covariance
    (L L^T)^{-1} = M, so no explicit inverse is formed.

    Arguments:
        like: a tensor [C, D] giving the shape, dtype and device.
        inv_mass: the diagonals of M^{-1} [C, D], or dense M^{-1} [C, D, D] (symmetric positive definite).
        generator: the random generator.

    Returns:
        Momenta [C, D].

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> inv_mass = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64).expand(20000, 2, 2)
        >>> p = sample_momentum(torch.zeros(20000, 2, dtype=torch.float64), inv_mass, g)
        >>> (torch.cov(p.T) * 0.19).round(decimals=1).tolist()  # M = inverse of [[1, .9], [.9, 1]], times 0.19
        [[1.0, -0.9], [-0.9, 1.0]]
    """
    eps = torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)
    if inv_mass.dim() == like.dim() + 1:
        tril = torch.linalg.cholesky(inv_mass)
        return torch.linalg.solve_triangular(tril.mT, eps.unsqueeze(-1), upper=True).squeeze(-1)
    return eps * inv_mass.rsqrt()


def kinetic_energy(p: torch.Tensor, inv_mass: torch.Tensor) -> torch.Tensor:
    """K(p) = 1/2 p^T M^{-1} p for p [C, D], per chain [C].

    Arguments:
        p: momenta [C, D].
        inv_mass: diagonal inverse mass matrices [C, D] (or broadcastable to p), or dense [C, D, D].

    Returns:
        The kinetic energy of each chain, [C].

    Example:
        >>> kinetic_energy(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.5]])).tolist()
        [1.5]

    References:
        Neal (2011), MCMC using Hamiltonian dynamics, arXiv:1206.1901, section 2.2.
    """
    if inv_mass.dim() == p.dim() + 1:
        return 0.5 * (p * velocity(p, inv_mass)).sum(-1)
    return 0.5 * (p * p * inv_mass).sum(-1)


def leapfrog(
    z: torch.Tensor,
    p: torch.Tensor,
    grad: torch.Tensor,
    step: torch.Tensor,
    inv_mass: torch.Tensor,
    energy_and_grad: EnergyAndGrad,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One leapfrog step for all chains.

    Arguments:
        z, p, grad: position, momentum and dU/dz at z, each [C, D].
        step: signed step sizes [C, 1].
        inv_mass: diagonal inverse mass matrix [C, D], or dense [C, D, D].
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
    if inv_mass.dim() == p.dim() + 1:
        z_new = torch.addcmul(z, step, velocity(p_half, inv_mass))
    else:
        z_new = torch.addcmul(z, step * inv_mass, p_half)
    u_new, grad_new = energy_and_grad(z_new)
    p_new = torch.addcmul(p_half, step, grad_new, value=-0.5)
    return z_new, p_new, u_new, grad_new
