"""Classifier-free guidance: a class-conditional diffusion model seen as a DiffusionProcess at fixed labels.

The samplers, the bound and the inpainting code drive a model only through
:class:`~bayesdl.models.diffusion.process.DiffusionProcess`. :class:`GuidedProcess` is such a process for
a :class:`~bayesdl.models.diffusion.conditional.ConditionalDDPM` with the labels y of the batch and the
guidance scale w fixed, so every sampler works unchanged for conditional and guided sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .process import ReverseStep


class GuidedProcess:
    """The reverse process with the guided noise estimate eps_w = (1 + w) eps(x_t, y) - w eps(x_t, null).

    Each reverse step runs the conditional and the unconditional (null-label) estimate in one batched
    denoiser call (one call with the labels alone when w = 0). Given x_t, the reverse mean and the x_0
    estimate are affine in eps with coefficients that do not depend on it, so combining the two
    :class:`~bayesdl.models.diffusion.process.ReverseStep` s with weights (1 + w, -w), which sum to 1,
    gives exactly the step at eps_w, whatever the network predicts (eps, x_0, v or grid logits). With
    ``clip``, x0_w is clamped to [-1, 1] after the combination and eps and the mean are recomputed from
    it. A learned variance is taken from the conditional output.

    Arguments:
        model: a ConditionalDDPM.
        labels: int64 labels [B] in 0..K, K being the null label (all K: the unconditional model).
        guidance: w >= 0 (0: plain conditional sampling).

    The batch of every call must be a multiple of B (the bound tiles the batch over steps; the rows
    then repeat the labels in the same order).

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.models.diffusion import ConditionalDDPM
        >>> model = ConditionalDDPM(DenoisingMLP(2, hidden=8, num_classes=3), num_classes=3, data_shape=[2], num_steps=10)
        >>> x_t, t, y = torch.randn(4, 2), torch.full((4,), 5), torch.tensor([0, 1, 2, 0])
        >>> guided = GuidedProcess(model, y, guidance=2.0).reverse_step(x_t, t)
        >>> cond = model.reverse_step(x_t, t, output=model.denoiser(x_t, t.float(), y))
        >>> uncond = model.reverse_step(x_t, t, output=model.denoiser(x_t, t.float(), None))
        >>> torch.allclose(guided.eps, 3 * cond.eps - 2 * uncond.eps, atol=1e-5)
        True

    References:
        Ho & Salimans (2022), Classifier-Free Diffusion Guidance, arXiv:2207.12598, eq. 6 and Algorithm 2.
    """

    def __init__(self, model: Any, labels: torch.Tensor, guidance: float = 0.0) -> None:
        self.model = model
        self.labels = labels
        self.guidance = float(guidance)

    # -- what the samplers read from the process, delegated to the model
    @property
    def num_steps(self) -> int:
        return self.model.num_steps

    @property
    def data_shape(self) -> tuple[int, ...]:
        return self.model.data_shape

    @property
    def num_dims(self) -> int:
        return self.model.num_dims

    @property
    def alpha_bar(self) -> torch.Tensor:
        return self.model.alpha_bar

    @property
    def training(self) -> bool:
        return self.model.training

    def train(self, mode: bool = True) -> GuidedProcess:
        self.model.train(mode)
        return self

    def eval(self) -> GuidedProcess:
        return self.train(False)

    def noise(self, shape: Sequence[int], generator: torch.Generator | None = None) -> torch.Tensor:
        return self.model.noise(shape, generator)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.q_sample(x0, t, noise)

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        return self.model.prior_kl(x0)

    # -- the conditioned network
    def _rows(self, batch: int) -> torch.Tensor:
        return self.labels.repeat(batch // len(self.labels))

    def output(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The denoiser's output at the batch's labels (no guidance)."""
        return self.model.denoiser(x_t, t.to(x_t.dtype), self._rows(len(x_t)))

    def reverse_step(self, x_t: torch.Tensor, t: torch.Tensor, clip: bool = False) -> ReverseStep:
        """p_w(x_{t-1} | x_t): the reverse step at the guided noise estimate eps_w."""
        model, w = self.model, self.guidance
        if w == 0.0:
            return model.reverse_step(x_t, t, clip=clip, output=self.output(x_t, t))
        labels = self._rows(len(x_t))
        both = model.denoiser(
            torch.cat([x_t, x_t]),
            t.to(x_t.dtype).repeat(2),
            torch.cat([labels, torch.full_like(labels, model.null_label)]),
        )
        out_c, out_u = both.chunk(2, dim=0)
        cond = model.reverse_step(x_t, t, output=out_c)
        uncond = model.reverse_step(x_t, t, output=out_u)
        x0 = (1 + w) * cond.x0 - w * uncond.x0
        if clip:
            x0 = x0.clamp(-1.0, 1.0)
            ab = model.alpha_bar[t - 1].reshape(-1, *([1] * (x_t.dim() - 1)))
            eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
            return ReverseStep(model.q_posterior(x0, x_t, t)[0], cond.log_var, x0, eps)
        return ReverseStep(
            (1 + w) * cond.mean - w * uncond.mean, cond.log_var, x0, (1 + w) * cond.eps - w * uncond.eps
        )

    def bound_terms_at(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The bound term L_{t-1} of -log p(x_0 | y) at step t (the conditional model, w = 0), nats [B]."""
        return self.model.bound_terms_at(x0, x_t, t, output=self.output(x_t, t))
