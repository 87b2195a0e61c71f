"""Importance sampling of the diffusion step t for training on the variational bound.

The bound is L = L_T + sum_t L_{t-1}. Drawing one t per example with probability p_t and weighting
its term by 1/p_t gives an unbiased estimate of the sum; its variance is smallest for
p_t proportional to sqrt(E[L_t^2]). Following Nichol & Dhariwal (2021, section 3.3), the last
``history`` values of each term are kept; t is drawn uniformly until every step has a full history,
and afterwards from p_t proportional to sqrt(mean of the stored L_t^2), mixed with a little of the
uniform distribution so that no step is starved.
"""

from __future__ import annotations

import torch

from ...validation import check_positive_int


class ImportanceTimestepSampler(torch.nn.Module):
    """Draw steps t in {1..T} with probability proportional to the RMS of their recent bound terms.

    The history is kept in buffers, so it is saved with the model and follows ``.to(device)``.

    Arguments:
        num_steps: T.
        history: how many recent values of each term are kept (10 in the paper).
        uniform_mix: the weight of the uniform distribution in the mixture.

    Example:
        >>> sampler = ImportanceTimestepSampler(5, history=2)
        >>> t, weights = sampler.draw(3, generator=torch.Generator().manual_seed(0))
        >>> t.shape, weights.tolist()
        (torch.Size([3]), [1.0, 1.0, 1.0])

    References:
        Nichol & Dhariwal (2021), Improved Denoising Diffusion Probabilistic Models, arXiv:2102.09672.
    """

    def __init__(self, num_steps: int, history: int = 10, uniform_mix: float = 0.001) -> None:
        super().__init__()
        self.num_steps = check_positive_int(num_steps, "num_steps")
        self.history = check_positive_int(history, "history")
        self.uniform_mix = float(uniform_mix)
        self.register_buffer("squared_terms", torch.zeros(num_steps, history))
        self.register_buffer("counts", torch.zeros(num_steps, dtype=torch.long))

    @property
    def warmed_up(self) -> bool:
        """True once every step has a full history of terms."""
        return bool((self.counts >= self.history).all())

    def probabilities(self) -> torch.Tensor:
        """p_t for t = 1..T, shape [T] (uniform until warmed up)."""
        uniform = torch.full((self.num_steps,), 1.0 / self.num_steps, device=self.counts.device)
        if not self.warmed_up:
            return uniform
        rms = self.squared_terms.mean(1).sqrt()
        p = rms / rms.sum()
        return (1 - self.uniform_mix) * p + self.uniform_mix * uniform

    def draw(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw n steps; returns t in {1..T} (int64 [n]) and the weights 1 / (T p_t) ([n])."""
        p = self.probabilities()
        index = torch.multinomial(p, n, replacement=True, generator=generator)
        return index + 1, 1.0 / (self.num_steps * p[index])

    @torch.no_grad()
    def update(self, t: torch.Tensor, terms: torch.Tensor) -> None:
        """Record the bound terms ``terms`` (one per example, nats) observed at steps ``t`` (1..T)."""
        for step, value in zip((t - 1).tolist(), terms.detach().double().tolist()):
            slot = int(self.counts[step]) % self.history
            self.squared_terms[step, slot] = value * value
            self.counts[step] += 1
