"""The closed-form contrastive-divergence gradient of an RBM, as an autograd function.

For the free-energy difference mean F(v) - mean F(v_neg) of a binary-hidden RBM (see
:class:`bayesdl.models.rbm.RBM`) with v_neg held fixed, the gradient in (W, b, c) is a difference of
sufficient statistics; :func:`cd_statistics` computes it with one fused matrix product and
:class:`FreeEnergyGap` hands it to autograd, so that no autograd graph is built through the products.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


def softplus_rows(logits: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """sum_j softplus(x_j) per row, from x and sigmoid(x): softplus(x) = x - log sigmoid(x).

    One logarithm instead of softplus's exp and log1p. Where sigmoid underflows to 0 (x < -87 in
    float32) the identity breaks down (log 0 = -inf); callers check their result and fall back to
    :func:`softplus_rows_exact`.
    """
    return logits.sum(-1) - torch.log(probs).sum(-1)


def softplus_rows_exact(logits: torch.Tensor) -> torch.Tensor:
    """sum_j softplus(x_j) per row with torch's softplus (the fallback of :func:`softplus_rows`)."""
    return F.softplus(logits).sum(-1)


def cd_statistics(
    stacked: torch.Tensor, probs: torch.Tensor, scale: torch.Tensor, visible_gap: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradient of mean F(v) - mean F(v_neg) with respect to (W, b, c), from [v; v_neg] and p(h | .).

    dF/dW = -v p(h|v)', dF/dc = -p(h|v), and dF/db = -v (Bernoulli) or b - v (Gaussian, where b
    cancels in the difference of means), so with ``scale`` = [-1/n, ..., -1/n, 1/m, ..., 1/m] one
    product [v; v_neg]' (scale * p) gives dW and one matrix-vector product gives dc.
    """
    grad_c = torch.mv(probs.t(), scale)  # a matrix-vector product: a column mean is several times slower
    s = torch.mul(probs, scale.unsqueeze(1)).to(stacked.dtype)
    if stacked.dtype == torch.bfloat16:
        # oneDNN's bfloat16 product with a transposed left factor is about 2x slower than with a
        # contiguous one, and the transposing copy of [v; v_neg] costs less than that
        grad_w = torch.mm(stacked.t().contiguous(), s).float()
    else:
        grad_w = torch.mm(stacked.t(), s)
    return grad_w, -visible_gap, grad_c


class FreeEnergyGap(torch.autograd.Function):
    """mean_i F(v_i) - mean_j F(vneg_j) with the closed-form CD gradient in the backward pass.

    Inputs: the parameters (W, b, c); the hidden inputs c + [v; v_neg] W and their sigmoids
    (float32, computed once without gradient and shared with the sampler); the row weights
    ``scale`` (-1/n for the n data rows, 1/m for the m negative rows); ``visible_term``, the
    visible part of the free-energy difference (a constant); and the gradient from
    :func:`cd_statistics`, computed with the forward pass, so that the backward pass only scales
    it by the incoming gradient (None when no backward pass can follow).
    """

    @staticmethod
    def forward(
        ctx: Any,
        weight: torch.Tensor,
        visible_bias: torch.Tensor,
        hidden_bias: torch.Tensor,
        logits: torch.Tensor,
        probs: torch.Tensor,
        scale: torch.Tensor,
        visible_term: torch.Tensor,
        statistics: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    ) -> torch.Tensor:
        # - mean_data sum_j softplus + mean_neg sum_j softplus = scale . rows
        gap = visible_term + torch.dot(softplus_rows(logits, probs), scale)
        if not math.isfinite(float(gap)):  # sigmoid underflowed somewhere (or the parameters diverged)
            gap = visible_term + torch.dot(softplus_rows_exact(logits), scale)
        ctx.statistics = statistics
        return gap

    @staticmethod
    def backward(ctx: Any, grad_gap: torch.Tensor) -> tuple:
        if ctx.statistics is None:
            raise RuntimeError("the CD loss supports one backward pass per forward pass")
        # released here so that autograd owns the only reference and stores grad_w as W.grad
        # without a copy (a second reference makes AccumulateGrad clone it)
        (grad_w, grad_b, grad_c), ctx.statistics = ctx.statistics, None
        if not bool(grad_gap == 1.0):
            grad_w, grad_b, grad_c = grad_w * grad_gap, grad_b * grad_gap, grad_c * grad_gap
        return grad_w, grad_b, grad_c, None, None, None, None, None
