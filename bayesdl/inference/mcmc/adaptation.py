"""Warmup adaptation as in Stan: dual-averaging step size and a windowed diagonal mass matrix.

Warmup is split into a fast initial buffer (step size only), a series of slow windows that double
in length (at the end of each, the inverse mass matrix is set to the regularised variance of the
unconstrained draws in that window, and step-size adaptation restarts), and a fast terminal buffer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def warmup_windows(
    num_warmup: int, init_buffer: int = 75, term_buffer: int = 50, base_window: int = 25
) -> list[tuple[int, int]]:
    """The slow (mass-matrix) windows of a Stan-style warmup, as half-open [start, end) iteration ranges.

    If warmup is too short for the default buffers, they become 15% / 75% / 10% of it, as in Stan.

    Arguments:
        num_warmup: the number of warmup iterations (fewer than 20 gives no windows: step size only).
        init_buffer: iterations of step-size-only adaptation before the first window.
        term_buffer: iterations of step-size-only adaptation after the last window.
        base_window: the length of the first slow window; each next one is twice as long, and the last
            one stretches to the terminal buffer.

    Returns:
        A list of ``(start, end)`` iteration ranges; the mass matrix is updated at each ``end``.

    Example:
        >>> warmup_windows(500)
        [(75, 100), (100, 150), (150, 250), (250, 450)]
        >>> warmup_windows(100)
        [(15, 90)]

    References:
        Carpenter et al. (2017), Stan: A Probabilistic Programming Language, Journal of Statistical Software
        76(1); Stan Reference Manual, section "HMC algorithm parameters: automatic parameter tuning".
    """
    if num_warmup < 20:
        return []
    if init_buffer + base_window + term_buffer > num_warmup:
        init_buffer = int(0.15 * num_warmup)
        term_buffer = int(0.1 * num_warmup)
        base_window = num_warmup - init_buffer - term_buffer
    windows, start, size = [], init_buffer, base_window
    end_slow = num_warmup - term_buffer
    while start < end_slow:
        end = start + size
        # the last window absorbs what would be too short to form a full next window
        if end + 2 * size > end_slow:
            end = end_slow
        windows.append((start, end))
        start, size = end, 2 * size
    return windows


@dataclass
class DualAveraging:
    """Nesterov dual averaging of log step size towards a target mean acceptance, one state per chain.

    Arguments:
        log_step: initial log step sizes [C]; mu = log(10 * step) is the shrinkage point.
        target_accept: delta, the target mean acceptance statistic.
        gamma, t0, kappa: the usual constants (0.05, 10, 0.75).

    Example:
        >>> da = DualAveraging(torch.zeros(2), 0.8)
        >>> da.update(torch.tensor([1.0, 0.0])).shape
        torch.Size([2])

    References:
        Hoffman & Gelman (2014), The No-U-Turn Sampler, arXiv:1111.4246, algorithm 5.
    """

    log_step: torch.Tensor
    target_accept: float
    gamma: float = 0.05
    t0: float = 10.0
    kappa: float = 0.75

    def __post_init__(self) -> None:
        self.mu = self.log_step + math.log(10.0)
        self.h_bar = torch.zeros_like(self.log_step)
        self.log_step_bar = torch.zeros_like(self.log_step)
        self.t = 0

    def update(self, accept_stat: torch.Tensor) -> torch.Tensor:
        """Feed the mean acceptance statistic [C] of one iteration; return the new step sizes [C].

        Arguments:
            accept_stat: the mean acceptance statistic of each chain's last transition, [C] in [0, 1].

        Returns:
            The step sizes [C] to use in the next iteration.
        """
        self.t += 1
        t = self.t
        eta = 1.0 / (t + self.t0)
        self.h_bar = (1 - eta) * self.h_bar + eta * (self.target_accept - accept_stat)
        log_step = self.mu - math.sqrt(t) / self.gamma * self.h_bar
        w = t ** (-self.kappa)
        self.log_step_bar = w * log_step + (1 - w) * self.log_step_bar
        self.log_step = log_step
        return log_step.exp()

    def final_step_size(self) -> torch.Tensor:
        """The averaged step size exp(log step bar) [C] to use after warmup.

        Returns:
            Step sizes [C].
        """
        return self.log_step_bar.exp()


class WelfordVariance:
    """Running per-coordinate variance of draws [C, D], one estimate per chain (Welford's algorithm).

    Arguments:
        num_chains: the number of chains C.
        dim: the number of unconstrained coordinates D.
        dtype: the dtype of the running sums (float64 recommended).
        device: the device of the draws.

    Example:
        >>> w = WelfordVariance(1, 1, torch.float64, torch.device("cpu"))
        >>> for v in [1.0, 2.0, 3.0]:
        ...     w.update(torch.tensor([[v]], dtype=torch.float64))
        >>> float(w.variance()[0, 0])
        1.0

    References:
        Welford (1962), Note on a method for calculating corrected sums of squares and products,
        Technometrics 4(3).
    """

    def __init__(self, num_chains: int, dim: int, dtype: torch.dtype, device: torch.device) -> None:
        self.n = 0
        self.mean = torch.zeros(num_chains, dim, dtype=dtype, device=device)
        self.m2 = torch.zeros(num_chains, dim, dtype=dtype, device=device)

    def update(self, x: torch.Tensor) -> None:
        """Add one draw per chain.

        Arguments:
            x: the draws [C, D].
        """
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    def variance(self) -> torch.Tensor:
        """The unbiased sample variance [C, D].

        Returns:
            The variance of each coordinate in each chain, [C, D] (the sum of squares itself when n < 2).
        """
        return self.m2 / max(self.n - 1, 1)

    def regularized_inverse_mass(self) -> torch.Tensor:
        """Stan's shrunk estimate n/(n+5) var + 1e-3 * 5/(n+5), used as the diagonal of M^{-1}.

        Returns:
            The diagonal inverse mass matrix [C, D].
        """
        n = self.n
        return (n / (n + 5.0)) * self.variance() + 1e-3 * (5.0 / (n + 5.0))


class WelfordCovariance:
    """Running mean and full covariance of each chain's draws (Welford's update with outer products).

    For a dense mass matrix: at the end of a slow window, M^{-1} is set to Stan's regularised
    covariance n/(n+5) S + 1e-3 * 5/(n+5) I, which shrinks the sample covariance S towards a small
    multiple of the identity so that it stays positive definite even when n is close to D.

    Arguments:
        num_chains: the number of chains C.
        dim: the number of unconstrained coordinates D.
        dtype: the dtype of the running sums (float64 recommended).
        device: the device of the draws.

    Example:
        >>> w = WelfordCovariance(1, 2, torch.float64, torch.device("cpu"))
        >>> for v in [1.0, 2.0, 3.0]:
        ...     w.update(torch.tensor([[v, -2 * v]], dtype=torch.float64))
        >>> w.covariance()[0].tolist()
        [[1.0, -2.0], [-2.0, 4.0]]

    References:
        Welford (1962), Technometrics 4(3); Stan Reference Manual, "HMC algorithm parameters"
        (dense_e metric, regularisation of the windowed covariance).
    """

    def __init__(self, num_chains: int, dim: int, dtype: torch.dtype, device: torch.device) -> None:
        self.n = 0
        self.mean = torch.zeros(num_chains, dim, dtype=dtype, device=device)
        self.m2 = torch.zeros(num_chains, dim, dim, dtype=dtype, device=device)

    def update(self, x: torch.Tensor) -> None:
        """Add one draw per chain.

        Arguments:
            x: the draws [C, D].
        """
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta.unsqueeze(-1) * (x - self.mean).unsqueeze(-2)

    def covariance(self) -> torch.Tensor:
        """The unbiased sample covariance [C, D, D] (symmetrised).

        Returns:
            Each chain's covariance matrix, [C, D, D].
        """
        cov = self.m2 / max(self.n - 1, 1)
        return 0.5 * (cov + cov.mT)

    def regularized_inverse_mass(self) -> torch.Tensor:
        """Stan's shrunk estimate n/(n+5) S + 1e-3 * 5/(n+5) I, used as the dense M^{-1}.

        Returns:
            The dense inverse mass matrix [C, D, D].
        """
        n = self.n
        eye = torch.eye(self.mean.shape[-1], dtype=self.mean.dtype, device=self.mean.device)
        return (n / (n + 5.0)) * self.covariance() + 1e-3 * (5.0 / (n + 5.0)) * eye


def find_reasonable_step_size(
    z: torch.Tensor,
    energy: torch.Tensor,
    grad: torch.Tensor,
    inv_mass: torch.Tensor,
    energy_and_grad,
    generator: torch.Generator,
    initial: torch.Tensor | None = None,
    max_iter: int = 60,
) -> torch.Tensor:
    """A per-chain starting step size: double or halve it until one leapfrog step's acceptance crosses 1/2.

    Arguments:
        z, energy, grad: the chains' current states ([C, D], [C], [C, D]).
        inv_mass: inverse mass matrices, diagonals [C, D] or dense [C, D, D].
        energy_and_grad: z -> (U, dU/dz), batched.
        generator: the random generator for the momenta.
        initial: starting step sizes [C] (default 1).

    Returns:
        Step sizes [C].

    Example:
        >>> f = lambda z: (0.5 * (z ** 2).sum(-1), z)
        >>> eps = find_reasonable_step_size(torch.ones(2, 3), torch.full((2,), 1.5), torch.ones(2, 3), torch.ones(2, 3),
        ...                                 f, torch.Generator().manual_seed(0))
        >>> bool((eps > 0.1).all() and (eps < 10).all())
        True

    References:
        Hoffman & Gelman (2014), The No-U-Turn Sampler, arXiv:1111.4246, algorithm 4.
    """
    from .integrator import kinetic_energy, leapfrog, sample_momentum

    num_chains = z.shape[0]
    step = initial.clone() if initial is not None else torch.ones(num_chains, dtype=z.dtype, device=z.device)
    p = sample_momentum(z, inv_mass, generator)
    h0 = energy + kinetic_energy(p, inv_mass)
    log_half = math.log(0.5)

    def log_accept(eps: torch.Tensor) -> torch.Tensor:
        _, p1, u1, _ = leapfrog(z, p, grad, eps.unsqueeze(-1), inv_mass, energy_and_grad)
        la = h0 - (u1 + kinetic_energy(p1, inv_mass))
        return torch.where(torch.isnan(la), torch.full_like(la, float("-inf")), la)

    direction = torch.where(log_accept(step) > log_half, 1.0, -1.0).to(z.dtype)
    active = torch.ones(num_chains, dtype=torch.bool, device=z.device)
    for _ in range(max_iter):
        candidate = torch.where(active, step * 2.0**direction, step)
        step = candidate.clamp(1e-10, 1e7)
        la = log_accept(step)
        active = active & (direction * la > direction * log_half) & (step > 1e-10) & (step < 1e7)
        if not bool(active.any()):
            break
    return step
