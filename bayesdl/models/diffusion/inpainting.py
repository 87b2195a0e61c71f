"""Inpainting with a trained diffusion model: RePaint's resampled reverse process (replacement when resample = 1).

At every reverse step the known pixels are replaced by a draw from the forward process,
x_{t-1}^known ~ q(x_{t-1} | x_0) = N(sqrt(alpha-bar_{t-1}) x_0, (1 - alpha-bar_{t-1}) I), and the unknown
ones come from the model, x_{t-1}^unknown ~ p(x_{t-1} | x_t); then x_{t-1} = m * known + (1 - m) * unknown
(m = 1 where observed). With ``resample = 1`` this is the replacement method (Song et al. 2021): the
unknown pixels see the known ones only through x_t, and often do not harmonise with them. RePaint
(Lugmayr et al. 2022) therefore goes back ``jump`` steps along the forward process,
x_{s+1} = sqrt(1 - beta_{s+1}) x_s + sqrt(beta_{s+1}) z, and denoises again, ``resample - 1`` extra
times at every ``jump``-th step, which lets the model's prior pull the generated part towards the known
part. The cost is about ``resample`` times that of one ancestral pass. At t = 1 the known pixels are
x_0 itself (alpha-bar_0 = 1), so the result keeps them exactly.
"""

from __future__ import annotations

import torch

from ...validation import check_positive_int
from .process import DiffusionProcess


def repaint_times(num_steps: int, resample: int = 1, jump: int = 1) -> list[int]:
    """The sequence of states T = s_0, s_1, ..., 0 visited by RePaint; a step down is a reverse step.

    After each reverse step that lands on a multiple s of ``jump`` with s <= T - jump, the chain goes
    back up ``jump`` steps and down again, ``resample - 1`` times in all for that s.

    Arguments:
        num_steps: T.
        resample: U, the number of times each jump is denoised (1: plain ancestral order, no jumps back).
        jump: j, the length of a jump back.

    Returns:
        The states as a list of ints, starting at T and ending at 0.

    Example:
        >>> repaint_times(3)
        [3, 2, 1, 0]
        >>> repaint_times(4, resample=2, jump=2)
        [4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0]

    References:
        Lugmayr et al. (2022), RePaint: Inpainting using Denoising Diffusion Probabilistic Models, arXiv:2201.09865.
    """
    check_positive_int(num_steps, "num_steps")
    resample = check_positive_int(resample, "resample")
    jump = check_positive_int(jump, "jump")
    remaining = {s: resample - 1 for s in range(0, num_steps - jump + 1, jump)}
    states, s = [num_steps], num_steps
    while s > 0:
        s -= 1
        states.append(s)
        if remaining.get(s, 0) > 0:
            remaining[s] -= 1
            states.extend(range(s + 1, s + jump + 1))
            s += jump
    return states


@torch.no_grad()
def inpaint(
    model: DiffusionProcess,
    x: torch.Tensor,
    observed: torch.Tensor,
    resample: int = 1,
    jump: int = 1,
    generator: torch.Generator | None = None,
    clip: bool = False,
) -> torch.Tensor:
    """Complete ``x`` where ``observed`` is False by RePaint (replacement-based when ``resample = 1``).

    Arguments:
        model: a (trained) :class:`~bayesdl.models.diffusion.process.DiffusionProcess`, e.g. a DDPM.
        x: data [B, *data_shape]; only the observed entries are used.
        observed: bool, the shape of x; True where the value is known.
        resample: U, how often each jump is denoised (see :func:`repaint_times`).
        jump: j, the length of a jump back along the forward process.
        generator: the random source (None: torch's global one).
        clip: clamp each step's x_0 estimate to [-1, 1].

    Returns:
        The completion [B, *data_shape], equal to ``x`` where observed.

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.models.diffusion import DDPM
        >>> model = DDPM(DenoisingMLP(4, hidden=8), data_shape=[4], num_steps=5)
        >>> x, known = torch.ones(2, 4), torch.tensor([True, True, False, False]).expand(2, 4)
        >>> out = inpaint(model, x, known, resample=2, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.equal(out[known], x[known])), out.shape
        (True, torch.Size([2, 4]))

    References:
        Lugmayr et al. (2022), RePaint: Inpainting using Denoising Diffusion Probabilistic Models, arXiv:2201.09865;
        Song et al. (2021), Score-Based Generative Modeling through SDEs (replacement), arXiv:2011.13456.
    """
    states = repaint_times(model.num_steps, resample, jump)
    alpha_bar = torch.cat([model.alpha_bar.new_ones(1), model.alpha_bar])  # alpha-bar_0 = 1
    n = len(x)
    was_training = model.training
    model.eval()
    try:
        current = model.noise(x.shape, generator)
        for s, nxt in zip(states[:-1], states[1:]):
            if nxt > s:  # one step back up the forward process: x_{s+1} ~ q(x_{s+1} | x_s)
                beta = 1 - alpha_bar[nxt] / alpha_bar[s]
                current = (1 - beta).sqrt() * current + beta.sqrt() * model.noise(x.shape, generator)
                continue
            t = torch.full((n,), s, device=x.device, dtype=torch.long)
            p = model.reverse_step(current, t, clip=clip)
            if nxt > 0:
                unknown = p.mean + torch.exp(0.5 * p.log_var) * model.noise(x.shape, generator)
                known = alpha_bar[nxt].sqrt() * x + (1 - alpha_bar[nxt]).sqrt() * model.noise(
                    x.shape, generator
                )
            else:
                unknown, known = p.mean, x
            current = torch.where(observed, known, unknown)
    finally:
        model.train(was_training)
    return current
