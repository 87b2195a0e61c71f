"""The Bernoulli head: one logit per dimension, binary data."""

from __future__ import annotations

import pyro.distributions as dist
import torch
import torch.nn.functional as F

from ...io import serializable
from ...validation import check_binary
from .base import Head


@serializable(name="BernoulliLikelihood")  # the key files written by the VAE decoders store
class BernoulliHead(Head):
    """p(y | l) = prod_d Bernoulli(y_d; sigmoid(l_d)) from one logit l_d per dimension; y_d in {0, 1}.

    log p = sum_d y_d l_d - log(1 + e^{l_d}), one fused binary cross-entropy kernel (the training hot path of
    Bernoulli VAEs and of MADE, NADE and PixelCNN on binarised images).

    Example:
        >>> head = BernoulliHead()
        >>> head.log_prob(torch.zeros(2, 1, 3), torch.tensor([[0., 1., 1.], [1., 1., 1.]]), 1)
        tensor([-2.0794, -2.0794])
        >>> head.log_prob_elements(torch.zeros(1, 1, 2), torch.tensor([[0.0, 1.0]]), 1).exp()
        tensor([[0.5000, 0.5000]])
    """

    num_params = 1

    def check(self, y: torch.Tensor, name: str = "y") -> torch.Tensor:
        return check_binary(y, name)

    def log_prob_elements(self, params: torch.Tensor, y: torch.Tensor, event_ndim: int) -> torch.Tensor:
        # squeeze, not select: its backward is a view, where select's writes a zero-filled copy
        logits = params.squeeze(-event_ndim - 1)
        if y.shape != logits.shape:
            y = y.expand(logits.shape)
        return -F.binary_cross_entropy_with_logits(logits, y, reduction="none")

    def base_distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        return dist.Bernoulli(logits=params.squeeze(-event_ndim - 1), validate_args=False)

    def sample(self, params: torch.Tensor, event_ndim: int, generator: torch.Generator) -> torch.Tensor:
        logits = params.select(-event_ndim - 1, 0)
        u = torch.rand(logits.shape, generator=generator, device=params.device, dtype=params.dtype)
        return (u < torch.sigmoid(logits)).to(params.dtype)
