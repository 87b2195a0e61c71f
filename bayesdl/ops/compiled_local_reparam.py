"""An opt-in compiled training step for a stack of Bayesian linear layers with ReLU between them.

For L layers ``h_{l+1} = relu(b_l)``, ``b_l = h_l mu_l^T + beta_l + sqrt(h_l^2 (sigma_l^2)^T + s_beta_l^2) * eps_l``
(no ReLU after the last layer), with sigma = softplus(rho) and a fixed N(0, s_l^2) prior per layer, the forward
pass (outputs and the summed closed-form KL) and a hand-written backward pass are written as two pure tensor
functions and compiled with ``torch.compile`` (TorchInductor). Inductor fuses the elementwise work over the weight
matrices (softplus, its slope sigmoid(rho), sigma^2, the KL sums, the rho gradient) into a few loops and removes
the per-op Python and dispatch overhead of eager mode, which on a CPU is a large part of a small network's step.
With a categorical likelihood, :func:`categorical_step` goes further: forward pass, cross-entropy and backward pass
are one compiled function (:class:`CompiledCategoricalStep`), so a training step makes one compiled call.

The backward pass is the one of local reparameterisation: with g = dL/db and eps/std saved from the forward,
2 dL/dvar = g * eps / std, dL/dmu_W = g^T h + g_KL mu_W / s^2, and
dL/drho = (2 sigma dL/dvar + g_KL (sigma / s^2 - 1 / sigma)) * sigmoid(rho), where dL/dvar for the weights is
(2 dL/dvar)^T h^2 / 2 summed over the batch (Kingma, Salimans & Welling 2015, arXiv:1506.02557).

The noise is drawn eagerly, layer by layer, with ``normal_`` on tensors of the layers' output shapes before the
compiled forward runs: the same numbers (for the same generator state) as the layer-by-layer path, which draws
``randn_like`` of each layer's output in the same order. The first call for a new input shape, dtype or prior
compiles (Inductor needs a C++ compiler; the compile time is reported by ``benchmarks/bench_bnn.py``); later
calls reuse the compiled code.

References:
    Kingma, Salimans & Welling (2015), Variational Dropout and the Local Reparameterization Trick, arXiv:1506.02557;
    Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424.
"""

from __future__ import annotations

import math
from typing import Any

import torch

# softplus(rho) = rho to float32 precision above this (the excess, log1p(exp(-rho)), is below 2e-9).
_LINEAR_ABOVE = 20.0


def _softplus_and_slope(rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """softplus(rho) and sigmoid(rho) from one exp and one log: with e = exp(rho), u = fl(1 + e),
    log1p(e) = log(u) - ((u - 1) - e) / u to second order in the rounding error of u."""
    e = torch.exp(rho)
    u = e + 1.0
    large = rho > _LINEAR_ABOVE
    sigma = torch.where(large, rho, torch.log(u) - ((u - 1.0) - e) / u)
    return sigma, torch.where(large, 1.0, e / u)


def _product(a: torch.Tensor, w: torch.Tensor, low: bool) -> torch.Tensor:
    """a @ w^T, in bfloat16 with float32 accumulation when ``low``."""
    if low:
        return (a.to(torch.bfloat16) @ w.to(torch.bfloat16).t()).to(a.dtype)
    return a @ w.t()


def stack_forward(
    x: torch.Tensor,
    eps: tuple[torch.Tensor, ...],
    params: tuple[torch.Tensor, ...],
    prior_vars: tuple[float, ...],
    lows: tuple[tuple[bool, bool], ...],
) -> tuple[Any, ...]:
    """The sampled outputs, the summed KL and the tensors the backward pass needs (a pure function, compiled).

    Each KL is one reduction of (sigma^2 + mu^2) / (2 s^2) - log sigma, so that Inductor computes it in the same
    loop as sigma, its slope and the saved products; in bfloat16 mode the weights' variances and means are saved
    in bfloat16, the form the backward products use.
    """
    h = x
    kl = x.new_zeros(())
    saved: list[torch.Tensor] = []
    last = len(prior_vars) - 1
    for i, prior_var in enumerate(prior_vars):
        w_mu, w_rho, b_mu, b_rho = params[4 * i : 4 * i + 4]
        low_var, low_mean = lows[i]
        w_sigma, w_slope = _softplus_and_slope(w_rho)
        b_sigma, b_slope = _softplus_and_slope(b_rho)
        w_var, b_var = w_sigma * w_sigma, b_sigma * b_sigma
        half = 0.5 / prior_var
        kl = (
            kl
            + ((w_var + w_mu * w_mu) * half - torch.log(w_sigma)).sum()
            + ((b_var + b_mu * b_mu) * half - torch.log(b_sigma)).sum()
            + 0.5 * (w_mu.numel() + b_mu.numel()) * (math.log(prior_var) - 1.0)
        )
        w_var_mm = w_var.to(torch.bfloat16) if low_var else w_var
        w_mu_mm = w_mu.to(torch.bfloat16) if low_mean else w_mu
        std = torch.sqrt(_product(h * h, w_var_mm, low_var) + b_var)
        out = _product(h, w_mu_mm, low_mean) + b_mu + std * eps[i]
        saved += [
            h,
            w_var_mm,
            w_mu_mm,
            w_sigma * w_slope,
            w_slope / w_sigma,
            b_sigma * b_slope,
            b_slope / b_sigma,
            eps[i] / std,
        ]
        h = torch.relu(out) if i < last else out
    return (h, kl, *saved)


_SAVED_PER_LAYER = 8


def stack_backward(
    grad_out: torch.Tensor,
    grad_kl: torch.Tensor,
    mus: tuple[torch.Tensor, ...],
    saved: tuple[torch.Tensor, ...],
    prior_vars: tuple[float, ...],
    lows: tuple[tuple[bool, bool], ...],
    input_grad: bool,
) -> tuple[torch.Tensor, ...]:
    """Gradients of the input (or an empty tensor) and of every layer's (w_mu, w_rho, b_mu, b_rho) (a pure function, compiled)."""
    grads: list[torch.Tensor] = []
    grad = grad_out
    grad_x = grad_out.new_empty(0)
    for i in range(len(prior_vars) - 1, -1, -1):
        h, w_var, w_mu_mm, w_up, w_down, b_up, b_down, eps_over_std = saved[
            _SAVED_PER_LAYER * i : _SAVED_PER_LAYER * (i + 1)
        ]
        w_mu, b_mu = mus[2 * i], mus[2 * i + 1]
        low_var, low_mean = lows[i]
        c = grad_kl / prior_vars[i]
        grad_std = grad * eps_over_std  # = 2 dL/dvar of the pre-activations
        grad_w_mu = _product(grad.t(), h.t(), low_mean) + c * w_mu
        grad_w_var = _product(grad_std.t(), (h * h).t(), low_var)
        grad_w_rho = (grad_w_var + c) * w_up - grad_kl * w_down
        grad_b_mu = grad.sum(0) + c * b_mu
        grad_b_rho = (grad_std.sum(0) + c) * b_up - grad_kl * b_down
        grads = [grad_w_mu, grad_w_rho, grad_b_mu, grad_b_rho] + grads
        if i > 0 or input_grad:
            grad_x = _product(grad, w_mu_mm.t(), low_mean) + _product(grad_std, w_var.t(), low_var) * h
            if i > 0:
                grad = torch.where(h > 0, grad_x, 0.0)  # through the ReLU that produced h
    return (grad_x, *grads)


def categorical_step(
    x: torch.Tensor,
    y: torch.Tensor,
    eps: tuple[torch.Tensor, ...],
    params: tuple[torch.Tensor, ...],
    prior_vars: tuple[float, ...],
    lows: tuple[tuple[bool, bool], ...],
    kl_scale: torch.Tensor,
) -> tuple[torch.Tensor, ...]:
    """The loss mean_n CE(out_n, y_n) + kl_scale * KL and its gradients in every layer parameter (a pure function, compiled).

    With a categorical likelihood the gradient of the loss in the outputs is known in the forward pass,
    (softmax(out) - onehot(y)) / B, so the forward pass, the loss and the backward pass are one function: one
    compiled call per step, no saved tensors and no autograd nodes for the loss.
    """
    out, kl, *saved = stack_forward(x, eps, params, prior_vars, lows)
    log_probs = torch.log_softmax(out, 1)
    loss = kl_scale * kl - log_probs.gather(1, y[:, None]).mean()
    grad_out = (log_probs.exp() - torch.nn.functional.one_hot(y, out.shape[1]).to(out.dtype)) / out.shape[0]
    mus = tuple(p for i in range(len(prior_vars)) for p in (params[4 * i], params[4 * i + 2]))
    _, *grads = stack_backward(grad_out, kl_scale, mus, tuple(saved), prior_vars, lows, False)
    return (loss, *grads)


_compiled: dict[str, Any] = {}


def _compiled_function(name: str) -> Any:
    if name not in _compiled:
        function = {"forward": stack_forward, "backward": stack_backward, "categorical": categorical_step}[
            name
        ]
        _compiled[name] = torch.compile(function, dynamic=False, fullgraph=True)
    return _compiled[name]


def _draw_noise(
    x: torch.Tensor, params: tuple[torch.Tensor, ...], num_layers: int
) -> tuple[torch.Tensor, ...]:
    """One standard normal per example and output unit of every layer, drawn eagerly in layer order (the same
    numbers as the layer-by-layer path's ``randn_like`` for the same generator state)."""
    return tuple(x.new_empty((x.shape[0], params[4 * i].shape[0])).normal_() for i in range(num_layers))


class CompiledLocalReparamStack(torch.autograd.Function):
    """``apply(x, prior_vars, lows, compiled, *params)``: the stack's sampled outputs and summed KL.

    ``params`` are the layers' (w_mu, w_rho, b_mu, b_rho) in order; ``prior_vars`` the prior variances s_l^2 as
    floats; ``lows`` per layer (bfloat16 variance products, bfloat16 mean products); ``compiled=False`` runs the
    same two functions eagerly (for tests and debugging).
    """

    @staticmethod
    def forward(ctx, x, prior_vars, lows, compiled, *params):  # type: ignore[override]
        forward_fn, backward_fn = (
            (_compiled_function("forward"), _compiled_function("backward"))
            if compiled
            else (stack_forward, stack_backward)
        )
        out, kl, *saved = forward_fn(x, _draw_noise(x, params, len(prior_vars)), params, prior_vars, lows)
        ctx.prior_vars, ctx.lows, ctx.backward_fn = prior_vars, lows, backward_fn
        ctx.save_for_backward(
            *[p for i in range(len(prior_vars)) for p in (params[4 * i], params[4 * i + 2])], *saved
        )
        return out, kl

    @staticmethod
    def backward(ctx, grad_out, grad_kl):  # type: ignore[override]
        tensors = ctx.saved_tensors
        count = 2 * len(ctx.prior_vars)
        grad_x, *grads = ctx.backward_fn(
            grad_out.contiguous(),
            grad_kl,
            tuple(tensors[:count]),
            tuple(tensors[count:]),
            ctx.prior_vars,
            ctx.lows,
            bool(ctx.needs_input_grad[0]),
        )
        return (grad_x if ctx.needs_input_grad[0] else None, None, None, None, *grads)


class CompiledCategoricalStep(torch.autograd.Function):
    """``apply(x, y, prior_vars, lows, kl_scale, compiled, *params)``: mean cross-entropy + kl_scale * KL in one call.

    The forward pass runs :func:`categorical_step` and keeps the parameter gradients it returns; the backward
    pass hands them to autograd (times the incoming gradient, unless that is exactly 1). ``x`` gets no gradient
    (use :class:`CompiledLocalReparamStack` when it needs one). ``kl_scale`` is a 0-d tensor (kl_weight / N),
    so that a new data-set size does not recompile.
    """

    @staticmethod
    def forward(ctx, x, y, prior_vars, lows, kl_scale, compiled, *params):  # type: ignore[override]
        step = _compiled_function("categorical") if compiled else categorical_step
        loss, *grads = step(x, y, _draw_noise(x, params, len(prior_vars)), params, prior_vars, lows, kl_scale)
        ctx.grads = grads
        return loss

    @staticmethod
    def backward(ctx, grad_loss):  # type: ignore[override]
        grads, ctx.grads = ctx.grads, None
        if (
            grad_loss.device.type != "cpu" or float(grad_loss) != 1.0
        ):  # a CUDA scalar would cost a sync to test
            grads = [g * grad_loss for g in grads]
        return (None, None, None, None, None, None, *grads)
