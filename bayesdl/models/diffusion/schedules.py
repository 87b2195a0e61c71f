"""Noise schedules of the forward diffusion q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I).

A schedule is the sequence beta_1, ..., beta_T. Everything else the DDPM needs follows from it:
alpha_t = 1 - beta_t, alpha-bar_t = prod_{s <= t} alpha_s (so q(x_t | x_0) = N(sqrt(alpha-bar_t) x_0,
(1 - alpha-bar_t) I)), and the posterior variance beta-tilde_t = beta_t (1 - alpha-bar_{t-1}) / (1 - alpha-bar_t).

Arrays are indexed from 0: entry ``i`` belongs to step t = i + 1. All quantities are computed in
float64 and returned in float64; :class:`~bayesdl.models.diffusion.DDPM` stores them as float32 buffers.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch

from ...validation import check_choice, check_positive_int

Schedule = Literal["linear", "cosine"]
SCHEDULES: tuple[str, ...] = get_args(Schedule)
MAX_BETA = 0.999


def linear_betas(num_steps: int) -> torch.Tensor:
    """The linear schedule of Ho, Jain & Abbeel (2020): beta from 1e-4 to 0.02 over 1000 steps.

    For other T the end points are multiplied by 1000 / T (as Nichol & Dhariwal 2021 do), so that
    alpha-bar_T stays close to 0; betas above 0.999 (only for T < 50) are capped at 0.999.

    Arguments:
        num_steps: T >= 1.

    Returns:
        beta_1..beta_T, float64 [T].

    Example:
        >>> linear_betas(1000)[[0, -1]].tolist()
        [0.0001, 0.02]

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
    """
    check_positive_int(num_steps, "num_steps")
    scale = 1000.0 / num_steps
    betas = torch.linspace(scale * 1e-4, scale * 0.02, num_steps, dtype=torch.float64)
    return betas.clamp(max=MAX_BETA)


def cosine_betas(num_steps: int, offset: float = 0.008) -> torch.Tensor:
    """The cosine schedule of Nichol & Dhariwal (2021): alpha-bar_t = f(t) / f(0) with
    f(t) = cos^2(pi/2 (t/T + s) / (1 + s)), and beta_t = 1 - alpha-bar_t / alpha-bar_{t-1} capped at 0.999.

    Arguments:
        num_steps: T >= 1.
        offset: s, which keeps beta_1 from being vanishingly small.

    Returns:
        beta_1..beta_T, float64 [T].

    Example:
        >>> betas = cosine_betas(1000)
        >>> float(betas[-1])
        0.999

    References:
        Nichol & Dhariwal (2021), Improved Denoising Diffusion Probabilistic Models, arXiv:2102.09672.
    """
    check_positive_int(num_steps, "num_steps")
    steps = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    f = torch.cos((steps + offset) / (1 + offset) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
    return betas.clamp(min=0.0, max=MAX_BETA)


def make_betas(schedule: str, num_steps: int) -> torch.Tensor:
    """beta_1..beta_T of a named schedule ("linear" or "cosine"), float64 [T].

    Arguments:
        schedule: "linear" (:func:`linear_betas`) or "cosine" (:func:`cosine_betas`).
        num_steps: T >= 1.

    Returns:
        beta_1..beta_T, float64 [T], each in (0, 0.999].

    Example:
        >>> make_betas("cosine", 10).shape
        torch.Size([10])
        >>> torch.equal(make_betas("linear", 1000), linear_betas(1000))
        True

    References:
        Ho, Jain & Abbeel (2020), arXiv:2006.11239 (linear). Nichol & Dhariwal (2021), arXiv:2102.09672 (cosine).
    """
    check_choice(schedule, "schedule", SCHEDULES)
    return linear_betas(num_steps) if schedule == "linear" else cosine_betas(num_steps)


def schedule_quantities(betas: torch.Tensor) -> dict[str, torch.Tensor]:
    """Everything the forward process, its posterior and the reverse process need, from the betas.

    Returns a dict of float64 [T] tensors, entry i belonging to step t = i + 1:

    * ``betas``, ``alphas`` = 1 - beta, ``alpha_bar`` = cumulative product, ``alpha_bar_prev``
      (alpha-bar_{t-1}, with alpha-bar_0 = 1);
    * ``posterior_variance`` beta-tilde_t = beta_t (1 - alpha-bar_{t-1}) / (1 - alpha-bar_t) (0 at t = 1);
    * ``posterior_log_variance_clipped``: its log, with the t = 1 entry replaced by that of t = 2
      (the variance used for the decoder at t = 1 when the reverse variance is beta-tilde);
    * ``posterior_mean_coef_x0`` = beta_t sqrt(alpha-bar_{t-1}) / (1 - alpha-bar_t) and
      ``posterior_mean_coef_xt`` = (1 - alpha-bar_{t-1}) sqrt(alpha_t) / (1 - alpha-bar_t), so that
      E[x_{t-1} | x_t, x_0] = coef_x0 x_0 + coef_xt x_t (Ho et al. 2020, eq. 7).

    Arguments:
        betas: beta_1..beta_T, shape [T], each in (0, 1); converted to float64.

    Returns:
        The dict described above, every value float64 of shape [T].

    Example:
        >>> q = schedule_quantities(torch.tensor([0.5, 0.5]))
        >>> sorted(q)[:3]
        ['alpha_bar', 'alpha_bar_prev', 'alphas']
        >>> q["alpha_bar"].tolist(), q["posterior_variance"].tolist()
        ([0.5, 0.25], [0.0, 0.3333333333333333])

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
    """
    betas = betas.to(torch.float64)
    alphas = 1.0 - betas
    alpha_bar = torch.cumprod(alphas, 0)
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])
    posterior_variance = betas * (1 - alpha_bar_prev) / (1 - alpha_bar)
    if len(betas) > 1:
        clipped = torch.cat([posterior_variance[1:2], posterior_variance[1:]])
    else:  # a single step has no beta-tilde_2; fall back to beta_1
        clipped = betas.clone()
    return {
        "betas": betas,
        "alphas": alphas,
        "alpha_bar": alpha_bar,
        "alpha_bar_prev": alpha_bar_prev,
        "posterior_variance": posterior_variance,
        "posterior_log_variance_clipped": torch.log(clipped),
        "posterior_mean_coef_x0": betas * torch.sqrt(alpha_bar_prev) / (1 - alpha_bar),
        "posterior_mean_coef_xt": (1 - alpha_bar_prev) * torch.sqrt(alphas) / (1 - alpha_bar),
    }
