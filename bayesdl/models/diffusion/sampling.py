"""Samplers of a trained diffusion model (a DiffusionProcess such as DDPM): ancestral sampling and DDIM.

DDIM (Song, Meng & Ermon 2020) uses a subsequence tau_1 < ... < tau_S of the steps and the update
x_{prev} = sqrt(alpha-bar_prev) x0_hat + sqrt(1 - alpha-bar_prev - sigma^2) eps_hat + sigma z with
sigma = eta sqrt((1 - alpha-bar_prev) / (1 - alpha-bar_t)) sqrt(1 - alpha-bar_t / alpha-bar_prev).
With eta = 1 and all T steps, sigma^2 = beta-tilde_t and the mean is the posterior mean at x0_hat,
so DDIM is then the ancestral sampler with variance beta-tilde; with eta = 0 it is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...errors import InputError
from ...validation import check_positive_int
from .process import DiffusionProcess


def _keep_steps(model: DiffusionProcess, keep: Sequence[int]) -> set[int]:
    steps = set()
    for t in keep:
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t <= model.num_steps:
            raise InputError(f"keep must list steps in 0..{model.num_steps}, got {t!r}")
        steps.add(t)
    return steps


@torch.no_grad()
def ancestral_sample(
    model: DiffusionProcess,
    n: int,
    generator: torch.Generator | None = None,
    clip: bool = False,
    keep: Sequence[int] = (),
):
    """x_T ~ N(0, I); x_{t-1} ~ p(x_{t-1} | x_t) for t = T..2; x_0 = the mean of p(x_0 | x_1).

    The model is run in eval mode; its training flag is restored afterwards.

    Arguments:
        model: a (trained) :class:`~bayesdl.models.diffusion.process.DiffusionProcess`, e.g. a DDPM.
        n: the number of samples.
        generator: the random source of x_T and the per-step noise (None: torch's global one).
        clip: clamp each step's x_0 estimate to [-1, 1] (for image data on that scale).
        keep: steps t in 0..T whose states x_t to return as well (0 = the final sample).

    Returns:
        Samples [n, *data_shape] on the model's device, or ``(samples, {t: x_t})`` if ``keep`` lists
        steps.

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.models.diffusion import DDPM
        >>> model = DDPM(DenoisingMLP(2, hidden=8), data_shape=[2], num_steps=5)
        >>> x, path = ancestral_sample(model, 4, torch.Generator().manual_seed(0), keep=[5, 0])
        >>> sorted(path), bool(torch.equal(path[0], x))
        ([0, 5], True)

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models (Algorithm 2), arXiv:2006.11239.
    """
    wanted = _keep_steps(model, keep)
    was_training = model.training
    model.eval()
    try:
        x = model.noise((n, *model.data_shape), generator)
        path = {model.num_steps: x.clone()} if model.num_steps in wanted else {}
        for step in range(model.num_steps, 0, -1):
            t = torch.full((n,), step, device=x.device, dtype=torch.long)
            p = model.reverse_step(x, t, clip=clip)
            if step > 1:
                x = p.mean + torch.exp(0.5 * p.log_var) * model.noise(x.shape, generator)
            else:
                x = p.mean
            if step - 1 in wanted:
                path[step - 1] = x.clone()
    finally:
        model.train(was_training)
    return (x, path) if keep else x


def ddim_timesteps(num_steps: int, num_sample_steps: int) -> torch.Tensor:
    """S evenly spaced steps in 1..T (always including 1 and T), increasing, int64.

    Arguments:
        num_steps: T, the number of steps of the trained model.
        num_sample_steps: S in 1..T, the number of steps the DDIM sampler visits.

    Returns:
        The steps tau_1 < ... < tau_S as an int64 tensor [S] (fewer if rounding makes two coincide;
        S = 1 gives just [1]).

    Example:
        >>> ddim_timesteps(1000, 5).tolist()
        [1, 251, 500, 750, 1000]
        >>> ddim_timesteps(10, 10).tolist() == list(range(1, 11))
        True

    References:
        Song, Meng & Ermon (2020), Denoising Diffusion Implicit Models, arXiv:2010.02502.
    """
    check_positive_int(num_sample_steps, "num_steps (DDIM)")
    if num_sample_steps > num_steps:
        raise InputError(
            f"DDIM num_steps must be at most the model's T = {num_steps}, got {num_sample_steps}"
        )
    return torch.linspace(1, num_steps, num_sample_steps, dtype=torch.float64).round().long().unique()


@torch.no_grad()
def ddim_sample(
    model: DiffusionProcess,
    n: int,
    num_steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    clip: bool = False,
) -> torch.Tensor:
    """Sample with DDIM on ``num_steps`` evenly spaced steps; ``eta`` in [0, 1] scales the noise.

    Arguments:
        model: a (trained) :class:`~bayesdl.models.diffusion.process.DiffusionProcess`, e.g. a DDPM.
        n: the number of samples.
        num_steps: S, the number of sampling steps (at most the model's T); see :func:`ddim_timesteps`.
        eta: 0 for the deterministic DDIM sampler, 1 for DDPM-like noise (ancestral with beta-tilde
            when S = T).
        generator: the random source of x_T and of the noise when eta > 0 (None: torch's global one).
        clip: clamp each step's x_0 estimate to [-1, 1].

    Returns:
        Samples [n, *data_shape] on the model's device.

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.models.diffusion import DDPM
        >>> model = DDPM(DenoisingMLP(2, hidden=8), data_shape=[2], num_steps=20)
        >>> ddim_sample(model, 3, num_steps=5, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3, 2])
        >>> a = ddim_sample(model, 3, num_steps=5, generator=torch.Generator().manual_seed(1))
        >>> torch.equal(a, ddim_sample(model, 3, num_steps=5, generator=torch.Generator().manual_seed(1)))
        True

    References:
        Song, Meng & Ermon (2020), Denoising Diffusion Implicit Models, arXiv:2010.02502.
    """
    eta = float(eta)
    if not 0.0 <= eta <= 1.0:
        raise InputError(f"eta must lie in [0, 1], got {eta}")
    steps = ddim_timesteps(model.num_steps, num_steps).tolist()
    was_training = model.training
    model.eval()
    try:
        x = model.noise((n, *model.data_shape), generator)
        for k in range(len(steps) - 1, -1, -1):
            step = steps[k]
            t = torch.full((n,), step, device=x.device, dtype=torch.long)
            estimate = model.reverse_step(x, t, clip=clip)
            ab = model.alpha_bar[step - 1]
            ab_prev = model.alpha_bar[steps[k - 1] - 1] if k > 0 else torch.ones_like(ab)
            sigma = eta * torch.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
            x = (
                ab_prev.sqrt() * estimate.x0
                + torch.sqrt((1 - ab_prev - sigma**2).clamp_min(0.0)) * estimate.eps
            )
            if k > 0 and eta > 0:
                x = x + sigma * model.noise(x.shape, generator)
    finally:
        model.train(was_training)
    return x
