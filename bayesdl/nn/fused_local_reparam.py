"""The fused training path of local reparameterisation: a stack of Bayesian linear layers with ReLU between them.

One autograd Function runs the forward and a hand-written backward pass of L layers
``h_{l+1} = relu(b_l)``, ``b_l = h_l mu_l^T + beta_l + sqrt(h_l^2 (sigma_l^2)^T + s_beta_l^2) * eps_l``
(no ReLU after the last layer) and returns the sampled outputs together with the closed-form KL of every layer
against a fixed N(0, s_l^2) prior, summed. With sigma = softplus(rho), d sigma / d rho = sigmoid(rho), and the
gradient of the KL, 2 sigma dL/dvar + g_KL (sigma / s^2 - 1 / sigma), is applied analytically, so the step needs
a few fused ops per weight matrix instead of some twenty autograd nodes per layer.

Why buffers are reused: in eager PyTorch on a CPU, a fresh tensor of a few hundred kilobytes is often served by
fresh pages from the operating system (glibc returns large freed blocks), and touching them costs more than the
arithmetic (measured on the 400 x 400 layer of ``benchmarks/bench_bnn.py``: the weight-sized elementwise work
took 0.8 to 1.3 ms with fresh outputs and 0.48 ms with reused ones). So every weight- or activation-sized
temporary is written into a buffer the layer keeps (``out=`` and in-place ops). Tensors saved for the backward
pass live in one of two slots per layer; a slot is reused only once the autograd graph that saved it is gone (a
weak reference to a token held by that graph), so keeping an old loss alive never lets a later step overwrite its
saved values (the step then simply allocates afresh), and autograd's version counters would refuse a stale
backward anyway. Tensors handed back to the caller (the output, the gradients) are always fresh.

``rho`` tensors of at least ``FAST_SOFTPLUS_MIN_SIZE`` entries use softplus from one exp and one log:
with e = exp(rho) and u = fl(1 + e), log1p(e) = log(u) - ((u - 1) - e) / u to second order in the rounding error
of u (a few ulps, even where 1 + e rounds to 1). If exp overflows (rho > ~88) the sum of sigma^2 is not finite
and the tensor is recomputed with torch's softplus; smaller tensors use torch's softplus and sigmoid directly.

References:
    Kingma, Salimans & Welling (2015), Variational Dropout and the Local Reparameterization Trick, arXiv:1506.02557;
    Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

# Below this size torch's softplus is cheaper than the six small ops of the fast one.
FAST_SOFTPLUS_MIN_SIZE = 8192


class _Token:
    """Held by one autograd graph; while it lives, the saved-tensor slot it claimed is not reused."""

    __slots__ = ("__weakref__",)


@dataclass
class Workspace:
    """The buffers one layer reuses from step to step: temporaries, and two slots of tensors saved for backward."""

    scratch: dict[str, torch.Tensor] = field(default_factory=dict)
    slots: list[dict[str, torch.Tensor]] = field(default_factory=lambda: [{}, {}])
    owners: list[weakref.ref | None] = field(default_factory=lambda: [None, None])

    def temporary(self, name: str, shape: torch.Size | tuple[int, ...], like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """A buffer for a value used only inside one forward or one backward call (never saved, never returned)."""
        return _buffer(self.scratch, name, shape, like, dtype)

    def claim(self, token: _Token) -> dict[str, torch.Tensor] | None:
        """A slot of saved-tensor buffers no live graph uses, now owned by ``token``'s graph (None if both are taken)."""
        for i, owner in enumerate(self.owners):
            if owner is None or owner() is None:
                self.owners[i] = weakref.ref(token)
                return self.slots[i]
        return None


def _buffer(store: dict[str, torch.Tensor] | None, name: str, shape, like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    dtype = like.dtype if dtype is None else dtype
    if store is None:
        return torch.empty(shape, dtype=dtype, device=like.device)
    buf = store.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype or buf.device != like.device:
        buf = store[name] = torch.empty(shape, dtype=dtype, device=like.device)
    return buf


def _low(t: torch.Tensor, store: dict[str, torch.Tensor] | None, name: str) -> torch.Tensor:
    return _buffer(store, name, t.shape, t, torch.bfloat16).copy_(t)


def _posterior_terms(mu: torch.Tensor, rho: torch.Tensor, ws: Workspace, saved: dict[str, torch.Tensor] | None, tag: str):
    """sigma^2, sigma * sigmoid(rho), sigmoid(rho) / sigma (saved for backward), sum(sigma^2 + mu^2) and sum(log sigma)."""
    fast = rho.numel() >= FAST_SOFTPLUS_MIN_SIZE
    if fast:
        e = torch.exp(rho, out=ws.temporary(tag + "e", rho.shape, rho))
        u = torch.add(e, 1.0, out=ws.temporary(tag + "u", rho.shape, rho))
        sigma = torch.log(u, out=ws.temporary(tag + "sigma", rho.shape, rho))
        sigma.addcdiv_(torch.sub(u, 1.0, out=ws.temporary(tag + "d", rho.shape, rho)).sub_(e), u, value=-1.0)
        slope = e.div_(u)  # sigmoid(rho) = e / (1 + e)
    else:
        sigma, slope = F.softplus(rho), torch.sigmoid(rho)
    var = torch.mul(sigma, sigma, out=_buffer(saved, tag + "var", rho.shape, rho))
    squares = var.sum()
    if fast and not math.isfinite(float(squares)):  # exp(rho) overflowed somewhere: torch's softplus instead
        sigma, slope = F.softplus(rho), torch.sigmoid(rho)
        squares = torch.mul(sigma, sigma, out=var).sum()
    log_sum = torch.log(sigma, out=ws.temporary(tag + "log", rho.shape, rho)).sum()
    down = torch.div(slope, sigma, out=_buffer(saved, tag + "down", rho.shape, rho))
    up = torch.mul(sigma, slope, out=_buffer(saved, tag + "up", rho.shape, rho))
    flat = mu.reshape(-1)
    return var, up, down, squares.add_(flat.dot(flat)), log_sum


@dataclass(frozen=True)
class LayerSpec:
    """What the fused path needs to know about one layer besides its four parameter tensors."""

    prior_var: float
    low_var: bool = False
    low_mean: bool = False
    workspace: Workspace | None = None


_PER_LAYER = 12  # tensors saved per layer


class FusedLocalReparamStack(torch.autograd.Function):
    """Local reparameterisation through Bayesian linear layers with ReLU in between, with a hand-written backward.

    ``apply(x, specs, *params)`` with ``specs`` a tuple of :class:`LayerSpec` and ``params`` the layers'
    (w_mu, w_rho, b_mu, b_rho) in order returns the last layer's sampled outputs and the summed closed-form KL.
    The noise is drawn layer by layer with ``normal_`` on a tensor of the output's shape, i.e. the same numbers
    (for the same generator state) as ``randn_like`` on the generic path. ``low_var`` / ``low_mean`` run the
    products of the variance / mean path in bfloat16 with float32 accumulation.
    """

    @staticmethod
    def forward(ctx, x, specs, *params):  # type: ignore[override]
        token = _Token()
        ctx.token, ctx.specs = token, specs
        h = x
        kl = None
        saved_tensors: list[torch.Tensor] = []
        last = len(specs) - 1
        for i, spec in enumerate(specs):
            w_mu, w_rho, b_mu, b_rho = params[4 * i : 4 * i + 4]
            ws = spec.workspace if spec.workspace is not None else Workspace()
            saved = ws.claim(token) if spec.workspace is not None else None
            w_var, w_up, w_down, w_sq, w_log = _posterior_terms(w_mu, w_rho, ws, saved, "w")
            b_var, b_up, b_down, b_sq, b_log = _posterior_terms(b_mu, b_rho, ws, saved, "b")
            x_sq = torch.mul(h, h, out=_buffer(saved, "x_sq", h.shape, h))
            batch, width = h.shape[0], w_mu.shape[0]
            if spec.low_var:
                w_var, x_sq = _low(w_var, saved, "w_var_low"), _low(x_sq, saved, "x_sq_low")
                var = torch.mm(x_sq, w_var.t()).float().add_(b_var)
            else:
                var = torch.addmm(b_var, x_sq, w_var.t(), out=ws.temporary("var", (batch, width), h))
            if spec.low_mean:
                x_mm, w_mu_mm = _low(h, saved, "x_low"), _low(w_mu, saved, "w_mu_low")
                mean = torch.mm(x_mm, w_mu_mm.t()).float().add_(b_mu)
            else:
                x_mm, w_mu_mm = h, w_mu
                mean = torch.addmm(b_mu, h, w_mu.t(), out=ws.temporary("mean", (batch, width), h))
            std = var.sqrt_()
            eps = _buffer(saved, "eps", (batch, width), h).normal_()
            if i == last:
                out = torch.addcmul(mean, std, eps)  # returned: a fresh tensor
            else:
                out = torch.addcmul(mean, std, eps, out=_buffer(saved, "h", (batch, width), h)).clamp_min_(0.0)
            layer_kl = (w_sq + b_sq).mul_(0.5 / spec.prior_var).sub_(w_log + b_log)
            layer_kl.add_(0.5 * (w_mu.numel() + b_mu.numel()) * (math.log(spec.prior_var) - 1.0))
            kl = layer_kl if kl is None else kl.add_(layer_kl)
            saved_tensors += [h, x_mm, x_sq, w_mu, w_mu_mm, w_var, w_up, w_down, b_mu, b_up, b_down, eps.div_(std)]
            h = out
        ctx.save_for_backward(*saved_tensors)
        return h, kl

    @staticmethod
    def backward(ctx, grad_out, grad_kl):  # type: ignore[override]
        specs = ctx.specs
        tensors = ctx.saved_tensors
        k = float(grad_kl)
        grads: list[torch.Tensor | None] = [None] * (4 * len(specs))
        grad_x = None
        grad = grad_out
        for i in range(len(specs) - 1, -1, -1):
            spec = specs[i]
            ws = spec.workspace if spec.workspace is not None else Workspace()
            h, x_mm, x_sq, w_mu, w_mu_mm, w_var, w_up, w_down, b_mu, b_up, b_down, eps_over_std = tensors[_PER_LAYER * i : _PER_LAYER * (i + 1)]
            c = k / spec.prior_var
            grad_std = torch.mul(grad, eps_over_std, out=ws.temporary("grad_std", grad.shape, grad))  # = 2 dL/dvar
            grad_std_mm = grad_std.to(torch.bfloat16) if spec.low_var else grad_std
            grad_mm = grad.to(torch.bfloat16) if spec.low_mean else grad
            if i > 0 or ctx.needs_input_grad[0]:
                from_mean = torch.mm(grad_mm, w_mu_mm, out=None if spec.low_mean else ws.temporary("from_mean", h.shape, h))
                from_var = torch.mm(grad_std_mm, w_var, out=None if spec.low_var else ws.temporary("from_var", h.shape, h))
                target = ws.temporary("grad_x", h.shape, h) if i > 0 else torch.empty_like(h)
                grad_x = torch.addcmul(from_mean.float(), from_var.float(), h, out=target)
            if spec.low_mean:
                grad_w_mu = (grad_mm.t() @ x_mm).float().add_(w_mu, alpha=c)
            else:
                grad_w_mu = torch.addmm(w_mu, grad.t(), h, beta=c)
            grad_b_mu = torch.add(grad.sum(0), b_mu, alpha=c)
            # dL/drho = (2 sigma dL/dvar + g_KL (sigma / s^2 - 1 / sigma)) * sigmoid(rho)
            if spec.low_var:
                grad_var_w = (grad_std_mm.t() @ x_sq).float()
            else:
                grad_var_w = torch.mm(grad_std.t(), x_sq, out=ws.temporary("grad_var_w", w_up.shape, w_up))
            grad_w_rho = torch.mul(grad_var_w.add_(c), w_up).sub_(w_down, alpha=k)
            grad_b_rho = grad_std.sum(0).add_(c).mul_(b_up).sub_(b_down, alpha=k)
            grads[4 * i : 4 * i + 4] = [grad_w_mu, grad_w_rho, grad_b_mu, grad_b_rho]
            if i > 0:
                # back through the ReLU that produced h (h > 0 exactly where the ReLU passed its input)
                grad = torch.ops.aten.threshold_backward.grad_input(grad_x, h, 0.0, grad_input=ws.temporary("grad_h", h.shape, h))
        return (grad_x if ctx.needs_input_grad[0] else None, None, *grads)
