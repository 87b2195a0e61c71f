"""Multi-scale image flows: RealNVP-style (checkerboard then channel couplings) or Glow-style
(ActNorm, invertible 1x1 convolution, channel coupling), with squeeze and factor-out between scales."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.distributions import constraints

from ...errors import InputError
from ...io import serializable
from ...nn.flows import (
    ActNorm,
    AffineCoupling,
    ConvConditioner,
    FactorOut,
    Flatten,
    FlowSequence,
    InvertibleConv1x1,
    Logit,
    Squeeze,
    Transform,
    channel_mask,
    checkerboard_mask,
)
from ...validation import check_choice, check_positive_int
from .base import Flow


@serializable
class MultiScaleFlow(Flow):
    """A multi-scale flow on images [B, C, H, W] with values in [0, 1] (logit preprocessing built in).

    Per scale, "glow": squeeze, then ``steps_per_scale`` x (ActNorm, 1x1 conv, channel coupling);
    "realnvp": ``steps_per_scale`` x (ActNorm, checkerboard coupling), squeeze, ``steps_per_scale`` x
    (ActNorm, channel coupling). Between scales half of the channels are factored out to the base.
    The base is N(0, I) over the flat latent of size C*H*W.

    Arguments:
        image_shape: (C, H, W); H and W must be divisible by 2**num_scales.
        num_scales: the number of scales (>= 1).
        steps_per_scale: flow steps per scale.
        hidden_channels: width of the coupling conv nets.
        style: "glow" or "realnvp".
        logit_alpha: the Logit preprocessing constant.

    Example:
        >>> import torch
        >>> flow = MultiScaleFlow((1, 4, 4), num_scales=2, steps_per_scale=1, hidden_channels=8)
        >>> flow.log_prob(torch.rand(2, 1, 4, 4)).shape, flow.sample(3).shape
        (torch.Size([2]), torch.Size([3, 1, 4, 4]))

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), arXiv:1605.08803; Kingma & Dhariwal (2018), arXiv:1807.03039.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        num_scales: int = 2,
        steps_per_scale: int = 4,
        hidden_channels: int = 64,
        style: str = "glow",
        logit_alpha: float = 0.05,
    ) -> None:
        super().__init__()
        if len(image_shape) != 3:
            raise InputError(f"image_shape must be (C, H, W), got {image_shape}")
        c, h, w = (int(s) for s in image_shape)
        check_positive_int(num_scales, "num_scales")
        check_positive_int(steps_per_scale, "steps_per_scale")
        check_choice(style, "style", ("glow", "realnvp"))
        if h % 2**num_scales or w % 2**num_scales:
            raise InputError(f"H and W must be divisible by 2**num_scales = {2**num_scales}, got {h}x{w}")
        self.steps = steps_per_scale
        self.hidden = hidden_channels
        self.style = style
        body = self._scale((c, h, w), num_scales)
        logit = Logit(logit_alpha)
        self._setup(FlowSequence([logit, body]), (c, h, w))
        self.support = constraints.interval(*logit.support_bounds)

    def _coupling(self, mask: torch.Tensor, c: int) -> list[Transform]:
        return [ActNorm(c), AffineCoupling(mask, ConvConditioner(c, self.hidden))]

    def _scale(self, shape: tuple[int, int, int], remaining: int) -> Transform:
        c, h, w = shape
        steps: list[Transform] = []
        if self.style == "glow":
            steps.append(Squeeze())
            c, h, w = 4 * c, h // 2, w // 2
            for k in range(self.steps):
                steps += [
                    ActNorm(c),
                    InvertibleConv1x1(c, seed=k + 31 * remaining),
                    AffineCoupling(channel_mask(c, h, w, k % 2), ConvConditioner(c, self.hidden)),
                ]
        else:
            for k in range(self.steps):
                steps += self._coupling(checkerboard_mask(c, h, w, k % 2), c)
            steps.append(Squeeze())
            c, h, w = 4 * c, h // 2, w // 2
            for k in range(self.steps):
                steps += self._coupling(channel_mask(c, h, w, k % 2), c)
        if remaining == 1:
            steps.append(Flatten((c, h, w)))
        else:
            steps.append(FactorOut((c, h, w), self._scale((c - c // 2, h, w), remaining - 1)))
        return FlowSequence(steps)
