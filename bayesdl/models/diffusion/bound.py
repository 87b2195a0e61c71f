"""The full variational bound of a DDPM, evaluated over all T steps and batched.

-log p(x_0) <= L_T + sum_{t=2}^{T} L_{t-1} + L_0 with
L_T = KL(q(x_T | x_0) || N(0, I)), L_{t-1} = E_q[KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t))] and
L_0 = E_q[-log p(x_0 | x_1)] (Ho, Jain & Abbeel 2020, eq. 5; Sohl-Dickstein et al. 2015, arXiv:1503.03585).
Each expectation is estimated with one draw x_t ~ q(x_t | x_0); the sum over t is exact. Several
steps are stacked into one denoiser call so that small networks run at full speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...progress import Progress, progress_counter
from ...validation import check_positive_int
from .process import DiffusionProcess

MAX_ROWS = 2**16
#: the default chunk keeps one denoiser call under this many input elements (rows x D), so that image
#: networks stay within memory and cache (a 28x28 U-Net call then has about 330 rows)
MAX_ELEMENTS = 2**18


@dataclass
class BoundTerms:
    """The per-term breakdown of the bound, nats per example.

    Attributes:
        total: the bound on -log p(x_0), [B].
        prior: L_T, [B].
        terms: [B, T]; column 0 is the decoder term L_0 and column t-1 (t >= 2) is L_{t-1}.
        decoder: the property L_0 = ``terms[:, 0]``, [B].
        diffusion: the property sum_{t=2}^T L_{t-1}, [B].

    Example:
        >>> bt = BoundTerms(total=torch.tensor([6.0]), prior=torch.tensor([1.0]), terms=torch.tensor([[2.0, 1.5, 1.5]]))
        >>> bt.decoder, bt.diffusion, torch.equal(bt.total, bt.prior + bt.decoder + bt.diffusion)
        (tensor([2.]), tensor([3.]), True)

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239, eq. 5.
    """

    total: torch.Tensor
    prior: torch.Tensor
    terms: torch.Tensor

    @property
    def decoder(self) -> torch.Tensor:
        """L_0 = -log p(x_0 | x_1), [B]."""
        return self.terms[:, 0]

    @property
    def diffusion(self) -> torch.Tensor:
        """sum_{t=2}^T L_{t-1}, [B]."""
        return self.terms[:, 1:].sum(1)


@torch.no_grad()
def variational_bound(
    model: DiffusionProcess,
    x0: torch.Tensor,
    t_chunk: int | None = None,
    generator: torch.Generator | None = None,
    progress: Progress = False,
) -> BoundTerms:
    """Evaluate every term of the bound of ``model`` on ``x0``; see :meth:`DDPM.nll_bound`.

    Each term uses one draw x_t ~ q(x_t | x_0), so the result is a single-sample Monte Carlo estimate
    of the bound; the model is evaluated in eval mode and its training flag restored afterwards.

    Arguments:
        model: the :class:`~bayesdl.models.diffusion.process.DiffusionProcess` (e.g. a DDPM) to evaluate.
        x0: data of shape [B, *model.data_shape], on the model's scale (e.g. [-1, 1] for images).
        t_chunk: how many time steps share one denoiser call (None: as many as fit in 2**16 rows).
        generator: the random source of the forward-process noise (None: torch's global one).
        progress: count the T steps evaluated: False (default, silent), True or a label for a bar, or a
            callable ``(done, total)`` (see :mod:`bayesdl.progress`).

    Returns:
        :class:`BoundTerms` in nats per example; ``total`` [B] upper-bounds -log p(x_0).

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.models.diffusion import DDPM
        >>> _ = torch.manual_seed(0)
        >>> model = DDPM(DenoisingMLP(1, hidden=8), data_shape=[1], num_steps=10)
        >>> gen = torch.Generator().manual_seed(0)
        >>> bound = variational_bound(model, torch.randn(4, 1, generator=gen), t_chunk=4, generator=gen)
        >>> bound.terms.shape, torch.allclose(bound.total, bound.prior + bound.terms.sum(1))
        (torch.Size([4, 10]), True)

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
    """
    batch, steps = len(x0), model.num_steps
    if t_chunk is None:
        rows = max(1, min(MAX_ROWS, MAX_ELEMENTS // model.num_dims))
        t_chunk = max(1, min(steps, rows // batch))
    check_positive_int(t_chunk, "t_chunk")
    was_training = model.training
    model.eval()
    terms = x0.new_zeros(batch, steps)
    counter = progress_counter(progress, steps, f"DDPM bound over all {steps} steps ({batch} examples)")
    try:
        for start in range(1, steps + 1, t_chunk):
            t_values = torch.arange(start, min(start + t_chunk, steps + 1), device=x0.device)
            t = t_values.repeat_interleave(batch)
            x0_rep = x0.repeat(len(t_values), *([1] * (x0.dim() - 1)))
            noise = torch.randn(x0_rep.shape, generator=generator, device=x0.device, dtype=x0.dtype)
            x_t = model.q_sample(x0_rep, t, noise)
            values = model.bound_terms_at(x0_rep, x_t, t)
            terms[:, t_values - 1] = values.reshape(len(t_values), batch).T
            counter.update(len(t_values))
    finally:
        counter.close()
        model.train(was_training)
    prior = model.prior_kl(x0)
    return BoundTerms(total=prior + terms.sum(1), prior=prior, terms=terms)
