"""Importance sampling of the diffusion time t in proportion to a weight lambda(t), by an inverse CDF on a grid.

The likelihood-weighted score-matching loss integrates lambda(t) = g(t)^2 / sigma_t^2 (times the noise error)
over t in [eps, T]; lambda grows like 1/t near 0, so uniform t gives a high-variance estimate. Drawing t from
p(t) proportional to lambda(t) makes lambda(t) / p(t) nearly constant (Song, Durkan, Murray & Ermon 2021,
arXiv:2101.09258, section 5). Here p is the piecewise-uniform density whose CDF interpolates the integral of
lambda on a log-spaced grid, and the weight returned with each draw is lambda(t) / p(t) for that exact p, so the
estimate stays unbiased whatever the grid.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


class ImportanceTimeSampler:
    """Draw t in [t_min, t_max] with density p(t) close to lambda(t) / Z, and return lambda(t) / p(t) with it.

    Arguments:
        weight: lambda(t) >= 0 for a float64 tensor of times.
        t_min, t_max: the interval (t_min > 0; the grid is log-spaced).
        num_grid: the number of grid points.

    Example:
        >>> sampler = ImportanceTimeSampler(lambda t: 1.0 / t, 1e-3, 1.0)
        >>> t, w = sampler.draw(4, generator=torch.Generator().manual_seed(0))
        >>> bool(((t >= 1e-3) & (t <= 1.0)).all()), [round(v, 2) for v in w.tolist()]  # lambda / p = Z = log 1000
        (True, [6.91, 6.91, 6.91, 6.91])

    References:
        Song, Durkan, Murray & Ermon (2021), Maximum Likelihood Training of Score-Based Diffusion Models,
        arXiv:2101.09258.
    """

    def __init__(
        self, weight: Callable[[torch.Tensor], torch.Tensor], t_min: float, t_max: float, num_grid: int = 4096
    ) -> None:
        self.weight = weight
        grid = torch.logspace(
            torch.log10(torch.tensor(t_min)), torch.log10(torch.tensor(t_max)), num_grid, dtype=torch.float64
        )
        lam = weight(grid)
        mass = 0.5 * (lam[1:] + lam[:-1]) * (grid[1:] - grid[:-1])  # trapezoid mass of each cell
        self.grid = grid
        self.cdf = torch.cat([torch.zeros(1, dtype=torch.float64), mass.cumsum(0)])
        self.density = mass / self.cdf[-1] / (grid[1:] - grid[:-1])  # p(t) on each cell

    def draw(
        self,
        n: int,
        *,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """n times t [n] and their weights lambda(t) / p(t) [n], on ``device`` in ``dtype``."""
        u = torch.rand(
            n, generator=generator, dtype=torch.float64, device=getattr(generator, "device", "cpu")
        )
        target = u.cpu() * self.cdf[-1]
        cell = torch.searchsorted(self.cdf, target, right=True).clamp(1, len(self.grid) - 1) - 1
        frac = (target - self.cdf[cell]) / (self.cdf[cell + 1] - self.cdf[cell])
        t = self.grid[cell] + frac * (self.grid[cell + 1] - self.grid[cell])
        w = self.weight(t) / self.density[cell]
        return t.to(device=device, dtype=dtype), w.to(device=device, dtype=dtype)
