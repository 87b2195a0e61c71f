"""Shared test helpers for the diffusion tests: the analytic optimal denoiser for N(0, 1) data."""

from __future__ import annotations

import torch

from bayesdl.models.diffusion import make_betas, schedule_quantities


class OptimalGaussianDenoiser(torch.nn.Module):
    """The exact minimiser of the denoising loss for data x_0 ~ N(0, I).

    Then x_t ~ N(0, I) for every t and E[eps | x_t] = sqrt(1 - alpha-bar_t) x_t,
    E[x_0 | x_t] = sqrt(alpha-bar_t) x_t and E[v | x_t] = 0.
    """

    def __init__(self, schedule: str, num_steps: int, prediction: str = "eps") -> None:
        super().__init__()
        q = schedule_quantities(make_betas(schedule, num_steps))
        self.register_buffer("alpha_bar", q["alpha_bar"].float())
        self.prediction = prediction

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = self.alpha_bar[t.long() - 1].reshape(-1, *([1] * (x.dim() - 1)))
        if self.prediction == "eps":
            return (1 - ab).sqrt() * x
        if self.prediction == "x0":
            return ab.sqrt() * x
        return torch.zeros_like(x)
