"""Bayesian linear and convolutional layers with a factorised Gaussian posterior over weights.

Each weight (and bias) has q(w) = N(mu, sigma^2) with sigma = softplus(rho), so rho is unconstrained.
A forward pass draws the layer output with one of three gradient estimators:

* ``"reparam"``: one weight draw W = mu + sigma * eps for the whole minibatch (Blundell et al. 2015,
  arXiv:1505.05424). Examples in a batch share the weights, so their gradients are correlated.
* ``"local_reparam"``: sample the pre-activations instead of the weights. For a factorised Gaussian q and
  a linear map b = x W^T, each b_j is Gaussian with mean x mu_j^T and variance (x^2) (sigma_j^2)^T, so
  b = m + sqrt(v) * eps with independent eps per example (Kingma, Salimans & Welling 2015,
  arXiv:1506.02557). Valid only because the layer is linear in W and q is factorised Gaussian; it costs
  two matrix products and no weight-sized noise, and has lower gradient variance.
* ``"flipout"``: one perturbation dW = sigma * eps per batch, decorrelated across examples by random signs:
  b_n = x_n mu^T + ((x_n * s_n) dW^T) * r_n with s_n, r_n uniform in {-1, +1} (Wen et al. 2018,
  arXiv:1803.04386). Each example sees a weight draw with the correct marginal N(mu, sigma^2).

``kl()`` returns KL(q || p) summed over the layer's parameters (closed form for a Gaussian prior, a
Monte Carlo estimate otherwise; see :mod:`bayesdl.nn.priors`). Set ``layer.sample = False`` to use the
posterior means (a deterministic forward pass).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..io import serializable
from ..ops.hardware import resolve_bfloat16
from ..validation import check_choice, check_positive_int
from .priors import GaussianPrior, Prior, kl_divergence

ESTIMATORS = ("reparam", "local_reparam", "flipout")


def softplus_inverse(y: float) -> float:
    """The rho with softplus(rho) = y, for y > 0."""
    return y + math.log(-math.expm1(-y))


MATMUL_PRECISIONS = ("auto", "fp32", "bf16_variance", "bf16")
MatmulPrecision = Literal["auto", "fp32", "bf16_variance", "bf16"]

# bfloat16 products pay off only for wide layers: below this width (inputs or outputs) a layer keeps float32.
BF16_MIN_WIDTH = 128

# Above this rho, exp(rho) could overflow in the fast softplus below; such layers use torch's softplus instead.
_FAST_SOFTPLUS_MAX_RHO = 20.0
# Below this size torch's softplus is cheaper than the eight small ops of the fast one.
_FAST_SOFTPLUS_MIN_SIZE = 8192


def _softplus_with_slope(rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """softplus(rho) and its derivative sigmoid(rho), from one exp and one log over the tensor.

    torch's CPU softplus and log1p are not vectorised (about 15x slower than exp on a 400x400 matrix). With
    e = exp(rho) and u = fl(1 + e), log1p(e) = log(u) - ((u - 1) - e) / u up to second order in the rounding
    error of u, which stays accurate to a few ulps even when 1 + e rounds to 1 (then the result is e itself).
    """
    if rho.numel() < _FAST_SOFTPLUS_MIN_SIZE or float(rho.max()) > _FAST_SOFTPLUS_MAX_RHO:
        return F.softplus(rho), torch.sigmoid(rho)
    e = rho.exp()
    u = e + 1.0
    sigma = u.log().sub_((u - 1.0).sub_(e).div_(u))
    return sigma, e.div_(u)  # sigmoid(rho) = e / (1 + e)


def _low(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.bfloat16)


class _FusedLocalReparamLinear(torch.autograd.Function):
    """Local reparameterisation for a linear layer with a fixed N(0, s^2) prior, forward and backward by hand.

    Returns the sampled pre-activations and the closed-form KL of the layer. Writing the backward pass
    analytically (d/dmu and d/drho of both the data term and the KL, with d sigma / d rho = sigmoid(rho))
    replaces some twenty elementwise autograd nodes over the weight matrix with a handful of fused ops.

    ``prior_var`` is s^2 as a Python float. ``low_var`` runs the three products of the variance path
    x^2 sigma^2 (forward, input gradient, sigma gradient) in bfloat16 with float32 accumulation, ``low_mean`` the
    three of the mean path. Elementwise work, the KL and all returned gradients stay in the parameters' dtype.
    """

    @staticmethod
    def forward(ctx, x, w_mu, w_rho, b_mu, b_rho, prior_var, low_var=False, low_mean=False):  # type: ignore[override]
        w_sigma, w_slope = _softplus_with_slope(w_rho)
        b_sigma, b_slope = _softplus_with_slope(b_rho)
        x_sq = x.square()
        b_var = b_sigma.square()
        w_var = w_sigma.square()
        if low_var:
            w_var, x_sq = _low(w_var), _low(x_sq)
            var = (x_sq @ w_var.t()).float().add_(b_var)
        else:
            var = torch.addmm(b_var, x_sq, w_var.t())
        if low_mean:
            x_mm, w_mu_mm = _low(x), _low(w_mu)
            mean = (x_mm @ w_mu_mm.t()).float().add_(b_mu)
        else:
            x_mm, w_mu_mm = x, w_mu
            mean = torch.addmm(b_mu, x, w_mu.t())
        std = var.sqrt_()
        eps = torch.randn_like(mean)
        out = torch.addcmul(mean, std, eps)
        flat_mu, flat_sigma = w_mu.reshape(-1), w_sigma.reshape(-1)
        squares = flat_sigma.dot(flat_sigma) + flat_mu.dot(flat_mu) + b_sigma.dot(b_sigma) + b_mu.dot(b_mu)
        log_sigma = w_sigma.log().sum() + b_sigma.log().sum()
        numel = w_mu.numel() + b_mu.numel()
        kl = squares.mul(0.5 / prior_var).sub_(log_sigma).add_(0.5 * numel * (math.log(prior_var) - 1.0))
        # d sigma / d rho = slope: the sigma-gradient terms enter as (.) * sigma * slope and (.) * slope / sigma
        w_down, b_down = w_slope / w_sigma, b_slope / b_sigma
        w_up, b_up = w_sigma.mul_(w_slope), b_sigma.mul_(b_slope)  # in place: sigma is not needed after this
        ctx.prior_var, ctx.low_var, ctx.low_mean = prior_var, low_var, low_mean
        ctx.save_for_backward(
            x, x_mm, x_sq, w_mu, w_mu_mm, w_var, w_up, w_down, b_mu, b_up, b_down, eps.div_(std)
        )
        return out, kl

    @staticmethod
    def backward(ctx, grad_out, grad_kl):  # type: ignore[override]
        x, x_mm, x_sq, w_mu, w_mu_mm, w_var, w_up, w_down, b_mu, b_up, b_down, eps_over_std = (
            ctx.saved_tensors
        )
        k = float(grad_kl)
        c = k / ctx.prior_var
        grad_std = grad_out * eps_over_std  # = 2 dL/dvar, for var = std^2
        grad_std_mm = _low(grad_std) if ctx.low_var else grad_std
        grad_out_mm = _low(grad_out) if ctx.low_mean else grad_out
        grad_x = None
        if ctx.needs_input_grad[0]:
            from_mean, from_var = grad_out_mm @ w_mu_mm, grad_std_mm @ w_var
            grad_x = torch.addcmul(
                from_mean.float() if ctx.low_mean else from_mean,
                from_var.float() if ctx.low_var else from_var,
                x,
            )
        if ctx.low_mean:
            grad_w_mu = (grad_out_mm.t() @ x_mm).float().add_(w_mu, alpha=c)
        else:
            grad_w_mu = torch.addmm(w_mu, grad_out.t(), x, beta=c)
        grad_b_mu = torch.add(grad_out.sum(0), b_mu, alpha=c)
        # dL/drho = (2 sigma dL/dvar + grad_kl (sigma / s^2 - 1 / sigma)) * slope
        grad_var_w = grad_std_mm.t() @ x_sq
        grad_w_rho = (
            (grad_var_w.float() if ctx.low_var else grad_var_w).add_(c).mul_(w_up).sub_(w_down, alpha=k)
        )
        grad_b_rho = grad_std.sum(0).add_(c).mul_(b_up).sub_(b_down, alpha=k)
        return grad_x, grad_w_mu, grad_w_rho, grad_b_mu, grad_b_rho, None, None, None


def _random_signs(shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(0.5).mul_(2.0).sub_(1.0)


class BayesianLayer(nn.Module):
    """Shared machinery of the Bayesian layers: posterior parameters, sampling switch, KL."""

    weight_mu: nn.Parameter
    weight_rho: nn.Parameter
    bias_mu: nn.Parameter | None
    bias_rho: nn.Parameter | None

    def _setup(
        self,
        weight_shape: tuple[int, ...],
        bias: bool,
        prior: Prior | None,
        estimator: str,
        posterior_std_init: float,
    ) -> None:
        check_choice(estimator, "estimator", ESTIMATORS)
        if not posterior_std_init > 0:
            raise InputError(f"posterior_std_init must be positive, got {posterior_std_init}")
        self.estimator = estimator
        self.posterior_std_init = float(posterior_std_init)
        self.prior = prior if prior is not None else GaussianPrior(1.0)
        rho = softplus_inverse(self.posterior_std_init)
        self.weight_mu = nn.Parameter(torch.empty(weight_shape))
        self.weight_rho = nn.Parameter(torch.full(weight_shape, rho))
        if bias:
            self.bias_mu = nn.Parameter(torch.empty(weight_shape[0]))
            self.bias_rho = nn.Parameter(torch.full((weight_shape[0],), rho))
        else:
            self.register_parameter("bias_mu", None)
            self.register_parameter("bias_rho", None)
        self.sample = True
        self._fused_kl: tuple[torch.Tensor, tuple[int, ...]] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise the posterior means like torch's default layer initialisation and sigma to its initial value."""
        nn.init.kaiming_uniform_(self.weight_mu, a=math.sqrt(5))
        nn.init.constant_(self.weight_rho, softplus_inverse(self.posterior_std_init))
        if self.bias_mu is not None:
            fan_in = self.weight_mu[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias_mu, -bound, bound)
            nn.init.constant_(self.bias_rho, softplus_inverse(self.posterior_std_init))

    @property
    def weight_sigma(self) -> torch.Tensor:
        """The posterior standard deviations softplus(rho) of the weights."""
        return F.softplus(self.weight_rho)

    @property
    def bias_sigma(self) -> torch.Tensor | None:
        """The posterior standard deviations of the biases (None without bias)."""
        return None if self.bias_rho is None else F.softplus(self.bias_rho)

    def load_from(self, layer: nn.Module) -> None:
        """Set the posterior means to a deterministic layer's weights and biases."""
        with torch.no_grad():
            self.weight_mu.copy_(layer.weight)
            if self.bias_mu is not None and getattr(layer, "bias", None) is not None:
                self.bias_mu.copy_(layer.bias)

    def _versions(self) -> tuple[int, ...]:
        # The layer's own parameters (the fused path, the only user, excludes learnable priors).
        return tuple(p._version for p in self._parameters.values() if p is not None)

    def kl(self) -> torch.Tensor:
        """KL(q || p) summed over all weights and biases (closed form for a Gaussian prior, else one MC draw)."""
        if self._fused_kl is not None:
            cached, versions = self._fused_kl
            self.__dict__["_fused_kl"] = (
                None  # plain attribute writes: nn.Module.__setattr__ is slow per step
            )
            if versions == self._versions() and torch.is_grad_enabled():
                return (
                    cached  # computed by the fused forward with the same parameters: its gradient flows there
                )
        total = kl_divergence(self.prior, self.weight_mu, self.weight_sigma)
        if self.bias_mu is not None:
            total = total + kl_divergence(self.prior, self.bias_mu, self.bias_sigma)
        return total

    def _op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def _output_signs_shape(self, out: torch.Tensor) -> tuple[int, ...]:
        raise NotImplementedError

    def _input_signs_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        raise NotImplementedError

    def _fused_forward(self, x: torch.Tensor) -> torch.Tensor | None:
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.__dict__["_fused_kl"] = None
        fused = self._fused_forward(x)
        if fused is not None:
            return fused
        if not self.sample:
            return self._op(x, self.weight_mu, self.bias_mu)
        w_sigma = self.weight_sigma
        b_sigma = self.bias_sigma
        if self.estimator == "reparam":
            weight = self.weight_mu + w_sigma * torch.randn_like(w_sigma)
            bias = None if b_sigma is None else self.bias_mu + b_sigma * torch.randn_like(b_sigma)
            return self._op(x, weight, bias)
        if self.estimator == "local_reparam":
            mean = self._op(x, self.weight_mu, self.bias_mu)
            var = self._op(x.square(), w_sigma.square(), None if b_sigma is None else b_sigma.square())
            return mean + var.sqrt() * torch.randn_like(mean)
        # flipout
        mean = self._op(x, self.weight_mu, self.bias_mu)
        delta = w_sigma * torch.randn_like(w_sigma)
        signs_in = _random_signs(self._input_signs_shape(x), x)
        perturbed = self._op(x * signs_in, delta, None)
        out = mean + perturbed * _random_signs(self._output_signs_shape(perturbed), perturbed)
        if b_sigma is not None:
            out = out + self._bias_view(b_sigma * torch.randn_like(b_sigma))
        return out

    def _bias_view(self, b: torch.Tensor) -> torch.Tensor:
        return b


@serializable
class BayesianLinear(BayesianLayer):
    """A fully connected layer y = x W^T + b with a factorised Gaussian posterior over W and b.

    Arguments:
        in_features: input width.
        out_features: output width.
        bias: include a bias.
        prior: a :class:`~bayesdl.nn.priors.Prior` (default: GaussianPrior(1.0)).
        estimator: "reparam", "local_reparam" (default) or "flipout".
        posterior_std_init: the initial posterior standard deviation softplus(rho).
        matmul_precision: the dtype of the matrix products of the fused training path (local reparameterisation,
            bias, fixed Gaussian prior, gradients enabled): "auto" (default), "fp32", "bf16_variance", where the
            three products of the variance path x^2 sigma^2 (forward, input gradient, sigma gradient) run in
            bfloat16 with float32 accumulation, or "bf16", where the mean path does too. bfloat16 keeps about three
            significant digits; a standard deviation needs fewer than a mean. bfloat16 is faster only on hardware
            with bfloat16 arithmetic (CPUs with AMX or AVX512-BF16, bf16-capable CUDA devices); elsewhere it is
            emulated and slower than "fp32", and an explicit bfloat16 setting warns once. "auto" is "bf16" where
            bfloat16 is native (see :mod:`bayesdl.ops.hardware`) and "fp32" elsewhere; the measurements per
            instruction set are in ``benchmarks/RESULTS.md`` (``bench_bnn``). Layers narrower than
            ``BF16_MIN_WIDTH`` (128) inputs or outputs keep float32. Parameters, gradients, the KL and predictions
            stay float32.

    Example:
        >>> layer = BayesianLinear(3, 2)
        >>> layer(torch.randn(5, 3)).shape
        torch.Size([5, 2])
        >>> bool(layer.kl() > 0)
        True

    References:
        Blundell et al. (2015), arXiv:1505.05424; Kingma, Salimans & Welling (2015), arXiv:1506.02557;
        Wen, Vicol, Ba, Tran & Grosse (2018), arXiv:1803.04386.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        prior: Prior | None = None,
        estimator: str = "local_reparam",
        posterior_std_init: float = 1e-3,
        matmul_precision: MatmulPrecision = "auto",
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        self.matmul_precision = str(check_choice(matmul_precision, "matmul_precision", MATMUL_PRECISIONS))
        self._prior_var_cache: tuple[tuple[int, int], float] | None = None
        self._setup((self.out_features, self.in_features), bias, prior, estimator, posterior_std_init)

    def _op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        return F.linear(x, weight, bias)

    def fused_settings(self) -> tuple[float, bool, bool] | None:
        """(prior variance s^2, bfloat16 variance products, bfloat16 mean products) for the fused training paths.

        None unless the layer samples with local reparameterisation, has a bias and a fixed (non-learnable)
        Gaussian prior; callers also require gradients and a 2-D input.
        """
        prior = self.prior
        if not (
            self.sample
            and self.estimator == "local_reparam"
            and self.bias_mu is not None
            and type(prior) is GaussianPrior
            and not prior.learnable
        ):
            return None
        log_sigma = prior.log_sigma
        key = (log_sigma._version, log_sigma.data_ptr())
        if (
            self._prior_var_cache is None or self._prior_var_cache[0] != key
        ):  # a float, read once (no sync per step)
            self._prior_var_cache = (key, math.exp(2.0 * float(log_sigma)))
        if min(self.in_features, self.out_features) < BF16_MIN_WIDTH or self.matmul_precision == "fp32":
            return self._prior_var_cache[1], False, False
        precision = self._precision_on(self.weight_mu.device)
        return self._prior_var_cache[1], precision != "fp32", precision == "bf16"

    def _precision_on(self, device: torch.device) -> str:
        """``matmul_precision`` with "auto" resolved for ``device`` ("bf16" where bfloat16 is native, else "fp32")."""
        cached = self.__dict__.get("_precision_cache")
        if cached is None or cached[0] != device:
            option = "auto" if self.matmul_precision == "auto" else "bfloat16"
            low = resolve_bfloat16(
                option, device, f"BayesianLinear(matmul_precision={self.matmul_precision!r})"
            )
            resolved = (
                ("bf16" if self.matmul_precision == "auto" else self.matmul_precision) if low else "fp32"
            )
            cached = self.__dict__["_precision_cache"] = (device, resolved)
        return cached[1]

    def _fused_forward(self, x: torch.Tensor) -> torch.Tensor | None:
        # Fast path: local reparameterisation, 2-D input, bias, fixed Gaussian prior, gradients wanted.
        if x.dim() != 2 or not torch.is_grad_enabled():
            return None
        settings = self.fused_settings()
        if settings is None:
            return None
        out, kl = _FusedLocalReparamLinear.apply(
            x, self.weight_mu, self.weight_rho, self.bias_mu, self.bias_rho, *settings
        )
        self.__dict__["_fused_kl"] = (kl, self._versions())
        return out

    def _input_signs_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return tuple(x.shape)

    def _output_signs_shape(self, out: torch.Tensor) -> tuple[int, ...]:
        return tuple(out.shape)

    def extra_repr(self) -> str:
        extra = "" if self.matmul_precision == "auto" else f", matmul_precision={self.matmul_precision}"
        return f"in_features={self.in_features}, out_features={self.out_features}, estimator={self.estimator}{extra}"


@serializable
class BayesianConv2d(BayesianLayer):
    """A 2-D convolution with a factorised Gaussian posterior over its kernel and bias.

    Arguments:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as ``nn.Conv2d``
            (square kernels and symmetric integer padding).
        prior: a :class:`~bayesdl.nn.priors.Prior` (default: GaussianPrior(1.0)).
        estimator: "reparam", "local_reparam" (default) or "flipout" (signs per example and channel).
        posterior_std_init: the initial posterior standard deviation softplus(rho).

    Example:
        >>> conv = BayesianConv2d(1, 4, 3, padding=1, estimator="flipout")
        >>> conv(torch.randn(2, 1, 8, 8)).shape
        torch.Size([2, 4, 8, 8])

    References:
        Blundell et al. (2015), arXiv:1505.05424; Kingma, Salimans & Welling (2015), arXiv:1506.02557;
        Wen et al. (2018), arXiv:1803.04386.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        prior: Prior | None = None,
        estimator: str = "local_reparam",
        posterior_std_init: float = 1e-3,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size")
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        if in_channels % groups or out_channels % groups:
            raise InputError(f"in_channels and out_channels must be divisible by groups={groups}")
        shape = (self.out_channels, self.in_channels // groups, self.kernel_size, self.kernel_size)
        self._setup(shape, bias, prior, estimator, posterior_std_init)

    def _op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def _input_signs_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (x.shape[0], x.shape[1], 1, 1)

    def _output_signs_shape(self, out: torch.Tensor) -> tuple[int, ...]:
        return (out.shape[0], out.shape[1], 1, 1)

    def _bias_view(self, b: torch.Tensor) -> torch.Tensor:
        return b.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, estimator={self.estimator}"
        )


def bayesian_layers(module: nn.Module) -> list[BayesianLayer]:
    """All Bayesian layers inside ``module`` (in registration order).

    Arguments:
        module: any ``nn.Module``; the module itself counts if it is a Bayesian layer.

    Returns:
        A list of the :class:`BayesianLayer` submodules (empty when there is none), e.g. to switch them
        all to their posterior means with ``layer.sample = False``.

    Example:
        >>> net = nn.Sequential(BayesianLinear(3, 4), nn.ReLU(), nn.Linear(4, 4), BayesianLinear(4, 1))
        >>> [(layer.in_features, layer.out_features) for layer in bayesian_layers(net)]
        [(3, 4), (4, 1)]
    """
    return [m for m in module.modules() if isinstance(m, BayesianLayer)]


def total_kl(module: nn.Module) -> torch.Tensor:
    """The sum of ``kl()`` over every Bayesian layer in ``module`` (an InputError if there is none).

    This is the complexity term of the Bayes-by-backprop ELBO: divide it by the training-set size N to
    put it on the per-example scale of the data term.

    Arguments:
        module: an ``nn.Module`` containing at least one :class:`BayesianLayer`.

    Returns:
        KL(q || p) summed over all weights and biases of all Bayesian layers: a scalar tensor in nats
        (for the whole network, not per example), differentiable in the posterior parameters.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> first, second = BayesianLinear(3, 4), BayesianLinear(4, 1)
        >>> net = nn.Sequential(first, nn.ReLU(), second)
        >>> torch.allclose(total_kl(net), first.kl() + second.kl())
        True

    References:
        Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424.
    """
    layers = bayesian_layers(module)
    if not layers:
        raise InputError(f"{type(module).__name__} has no Bayesian layers")
    return sum_kl(layers)


def sum_kl(layers: list[BayesianLayer] | tuple[BayesianLayer, ...]) -> torch.Tensor:
    """KL(q || p) summed over the given (non-empty) Bayesian layers: the one sum behind :func:`total_kl` and
    ``BayesByBackprop.kl``, for callers that found their layers once.

    Arguments:
        layers: at least one :class:`BayesianLayer`.

    Returns:
        The summed KL, a scalar tensor in nats.

    Example:
        >>> layers = [BayesianLinear(2, 3), BayesianLinear(3, 1)]
        >>> torch.allclose(sum_kl(layers), layers[0].kl() + layers[1].kl())
        True
    """
    total = layers[0].kl()
    for layer in layers[1:]:
        total = total + layer.kl()
    return total
