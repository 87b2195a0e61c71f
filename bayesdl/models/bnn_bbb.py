"""Bayes by Backprop: variational inference over the weights of any network of Linear/Conv2d layers.

:func:`bayesian` turns a deterministic network into a Bayesian one by replacing every ``nn.Linear`` and
``nn.Conv2d`` with :class:`~bayesdl.nn.bayesian_layers.BayesianLinear` / ``BayesianConv2d`` (other layers,
e.g. batch norm or an LSTM, stay deterministic point estimates).

Minibatch scaling of the KL
---------------------------
The negative ELBO of N examples is  -sum_n E_q[log p(y_n | x_n, w)] + KL(q || p).  Dividing by N gives a
per-example objective, and a minibatch B of size |B| estimates it without bias as

    L_B = -(1/|B|) sum_{n in B} log p(y_n | x_n, w),  w ~ q   +   KL(q || p) / N.

So the KL is weighted once per pass over the data: each of the N/|B| steps of an epoch carries KL/N per
example, and the sum over an epoch of |B| * L_B is one full negative ELBO. (Blundell et al. 2015 spread the
KL as KL/M over M minibatches of a summed loss: the same objective up to the factor |B|.) The shared
:class:`~bayesdl.inference.Trainer` passes N as ``num_data``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..errors import InputError
from ..io import serializable
from ..nn.bayesian_layers import (
    ESTIMATORS,
    MATMUL_PRECISIONS,
    BayesianConv2d,
    BayesianLayer,
    BayesianLinear,
    MatmulPrecision,
    bayesian_layers,
    sum_kl,
)
from ..nn.heads import CategoricalHead
from ..nn.priors import Prior
from ..ops.compiled_local_reparam import CompiledCategoricalStep, CompiledLocalReparamStack
from ..validation import check_choice, check_positive_int
from .nets import MLP, check_input
from .supervised import SupervisedModel, evaluation_mode


def bayesian(
    net: nn.Module,
    prior: Prior | None = None,
    estimator: str = "local_reparam",
    init_from_net: bool = True,
    posterior_std_init: float = 1e-3,
    matmul_precision: MatmulPrecision = "auto",
) -> nn.Module:
    """A copy of ``net`` whose Linear and Conv2d layers are Bayesian layers with a factorised Gaussian posterior.

    Arguments:
        net: a deterministic module (it is not modified).
        prior: the weight prior of every converted layer (each layer gets its own copy, so a learnable
            prior scale is learned per layer); default GaussianPrior(1.0).
        estimator: "reparam", "local_reparam" or "flipout" for every converted layer.
        init_from_net: start the posterior means at the net's current weights (e.g. a trained net);
            otherwise they are freshly initialised.
        posterior_std_init: the initial posterior standard deviation.
        matmul_precision: "auto", "fp32", "bf16_variance" or "bf16" for every converted linear layer (the dtype of the
            matrix products of the fused local-reparameterisation training path; see
            :class:`~bayesdl.nn.bayesian_layers.BayesianLinear`).

    Returns:
        The converted copy.

    Example:
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> bnn = bayesian(net, estimator="flipout")
        >>> type(bnn[0]).__name__, torch.equal(bnn[0].weight_mu, net[0].weight)
        ('BayesianLinear', True)
    """
    check_choice(estimator, "estimator", ESTIMATORS)
    check_choice(matmul_precision, "matmul_precision", MATMUL_PRECISIONS)
    converted = copy.deepcopy(net)
    found = _convert(converted, prior, estimator, init_from_net, posterior_std_init, matmul_precision)
    if not found:
        raise InputError(f"{type(net).__name__} has no nn.Linear or nn.Conv2d layer to make Bayesian")
    return converted


def _convert(
    module: nn.Module, prior: Prior | None, estimator: str, init_from_net: bool, std: float, precision: str
) -> int:
    count = 0
    for name, child in list(module.named_children()):
        layer_prior = copy.deepcopy(prior) if prior is not None else None
        if isinstance(child, nn.Linear):
            new: BayesianLayer = BayesianLinear(
                child.in_features,
                child.out_features,
                child.bias is not None,
                layer_prior,
                estimator,
                std,
                precision,
            )
        elif isinstance(child, nn.Conv2d):
            if not (
                isinstance(child.padding, tuple)
                and len(set(child.padding)) == 1
                and len(set(child.kernel_size)) == 1
                and len(set(child.stride)) == 1
                and len(set(child.dilation)) == 1
                and child.padding_mode == "zeros"
            ):
                raise InputError(
                    f"cannot convert {child}: only square kernels with symmetric zero padding are supported"
                )
            new = BayesianConv2d(
                child.in_channels,
                child.out_channels,
                child.kernel_size[0],
                child.stride[0],
                child.padding[0],
                child.dilation[0],
                child.groups,
                child.bias is not None,
                layer_prior,
                estimator,
                std,
            )
        else:
            count += _convert(child, prior, estimator, init_from_net, std, precision)
            continue
        if init_from_net:
            new.load_from(child)
        new.to(child.weight.device)
        setattr(module, name, new)
        count += 1
    return count


@serializable
class BayesByBackprop(SupervisedModel):
    """A Bayesian neural network trained by Bayes by Backprop (variational inference with a Gaussian q(w)).

    ``loss(x, y, num_data=N)`` is the per-example negative ELBO estimate
    -mean_n log p(y_n | x_n, w) + kl_weight * KL(q || p) / N with one w ~ q per forward pass (see the module
    docstring for why this weights the KL once per epoch). ``predictive_samples`` draws S networks from q.

    Arguments:
        net: the deterministic network to make Bayesian (copied; stored in the config for save/load).
        likelihood: "categorical", "heteroscedastic" or "homoscedastic" (learned noise).
        prior: the weight prior (default GaussianPrior(1.0)).
        estimator: "reparam", "local_reparam" (default) or "flipout".
        init_from_net: start the posterior means at ``net``'s weights.
        posterior_std_init: the initial posterior sd of every weight.
        kl_weight: multiplies the KL (1 is the ELBO; other values give a tempered objective, not a bound).
        matmul_precision: "auto" (default: bfloat16 products only where the hardware runs them natively, AMX or
            AVX512-BF16 CPUs and bf16-capable CUDA devices, else float32), "fp32", "bf16_variance" or "bf16": the
            dtype of the matrix products when training linear layers with local reparameterisation (see
            :class:`~bayesdl.nn.bayesian_layers.BayesianLinear`); predictions always use float32.
        noise_std, learn_noise: the homoscedastic noise head's initial sd and whether it is learned.
        compile: opt-in: when the network is a plain stack of Bayesian linear layers with ReLU between them (an
            :class:`~bayesdl.models.nets.MLP` without dropout or normalisation) on the fused local-reparameterisation
            path, ``loss`` runs the whole stack, its KL and a hand-written backward pass as two functions compiled
            with ``torch.compile`` (see :mod:`bayesdl.ops.compiled_local_reparam`; same draws, loss and gradients as
            the default path up to float rounding). The first training step compiles (Inductor needs a C++
            compiler); the compile time and the speed per instruction set are in ``benchmarks/RESULTS.md``.
            Other networks, and predictions, use the default path.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> model = BayesByBackprop(MLP(4, [16], 3), estimator="flipout")
        >>> x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
        >>> model.loss(x, y, num_data=1000).shape
        torch.Size([])
        >>> model.predictive_samples(x, num_samples=5).probs.shape
        torch.Size([5, 10, 3])

    References:
        Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424;
        Kingma, Salimans & Welling (2015), arXiv:1506.02557; Wen et al. (2018), arXiv:1803.04386.
    """

    method_name = "bbb"
    posterior_draws = True
    draw_note = (
        "one network drawn from the variational posterior q(w) per draw (through the layers' estimator: "
        "with local reparameterisation the weights themselves are not drawn, so no parameter draws are kept)"
    )

    def __init__(
        self,
        net: nn.Module,
        likelihood: str = "categorical",
        prior: Prior | None = None,
        estimator: str = "local_reparam",
        init_from_net: bool = False,
        posterior_std_init: float = 0.05,
        kl_weight: float = 1.0,
        noise_std: float = 1.0,
        learn_noise: bool = True,
        matmul_precision: MatmulPrecision = "auto",
        compile: bool = False,
    ) -> None:
        super().__init__()
        if not kl_weight >= 0:
            raise InputError(f"kl_weight must be >= 0, got {kl_weight}")
        self.kl_weight = float(kl_weight)
        self.compile_step = bool(compile)  # not self.compile: nn.Module.compile is a method
        self.net = bayesian(net, prior, estimator, init_from_net, posterior_std_init, matmul_precision)
        self.net.input_shape = getattr(net, "input_shape", None)
        self._build(net, likelihood, noise_std, learn_noise)

    def kl(self) -> torch.Tensor:
        """KL(q || p) summed over all Bayesian layers (closed form or a one-draw Monte Carlo estimate)."""
        layers = self.__dict__.get("_layers")
        if (
            layers is None
        ):  # found once: walking the module tree every step costs more than a small layer's KL
            layers = self.__dict__["_layers"] = tuple(bayesian_layers(self.net))
        return sum_kl(layers)

    def loss(self, x: torch.Tensor, y: torch.Tensor, num_data: int | None = None) -> torch.Tensor:
        """Negative ELBO per example: mean NLL on the batch + kl_weight * KL / num_data.

        ``num_data`` is N, the training-set size (the trainer passes it); when omitted the batch is taken to
        be the whole data set (full-batch training).
        """
        n = len(x) if num_data is None else check_positive_int(num_data, "num_data")
        if self.compile_step:
            stack = self._compiled_stack(x)
            if stack is not None:
                x = check_input(self.net, x)
                if isinstance(self.likelihood, CategoricalHead) and not x.requires_grad:
                    self.likelihood.check_target(y)
                    prior_vars, lows, compiled, *params = stack
                    kl_scale = torch.tensor(self.kl_weight / n, dtype=x.dtype, device=x.device)
                    return CompiledCategoricalStep.apply(
                        x, y.long(), prior_vars, lows, kl_scale, compiled, *params
                    )
                out, kl = CompiledLocalReparamStack.apply(x, *stack)
                return self.likelihood.nll(out, y).mean() + self.kl_weight * kl / n
        return self.data_nll(x, y).mean() + self.kl_weight * self.kl() / n

    def _compiled_stack(self, x: torch.Tensor, compiled: bool = True) -> tuple | None:
        """The arguments of the compiled stack path after ``x``, or None when the default path must run."""
        layers = self.__dict__.get("_stack", False)
        if layers is False:  # the structure is analysed once
            layers = self.__dict__["_stack"] = _linear_relu_stack(self.net)
        if (
            layers is None
            or x.dim() != 2
            or not torch.is_grad_enabled()
            or torch.is_autocast_enabled(x.device.type)
        ):
            return None
        if _has_hooks(self.net) or any(_has_hooks(layer) for layer in layers):
            return None
        settings = [layer.fused_settings() for layer in layers]
        if any(s is None for s in settings):
            return None
        params = [
            p for layer in layers for p in (layer.weight_mu, layer.weight_rho, layer.bias_mu, layer.bias_rho)
        ]
        return (tuple(s[0] for s in settings), tuple((s[1], s[2]) for s in settings), compiled, *params)

    def _draw_outputs(self, x: torch.Tensor, num_samples: int) -> list[torch.Tensor]:
        with evaluation_mode(self):
            return [self.net(x) for _ in range(num_samples)]

    def set_sampling(self, sample: bool) -> None:
        """Sample weights in forward passes (True, default) or use the posterior means (False)."""
        for layer in self.net.modules():
            if isinstance(layer, BayesianLayer):
                layer.sample = bool(sample)


def _has_hooks(module: nn.Module) -> bool:
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or nn.modules.module._global_forward_hooks
        or nn.modules.module._global_forward_pre_hooks
    )


def _linear_relu_stack(net: nn.Module) -> tuple[BayesianLinear, ...] | None:
    """The Bayesian linear layers of ``net`` if it computes exactly Linear (ReLU Linear)*, else None.

    Accepted: an ``MLP`` (its own class, not a subclass that might change ``forward``) or an ``nn.Sequential``
    of BayesianLinear, nn.ReLU and nn.Identity entries, one ReLU between consecutive linear layers and none after
    the last.
    """
    if type(net) is MLP:
        net = net.layers
    if type(net) is not nn.Sequential or _has_hooks(net):
        return None
    layers: list[BayesianLinear] = []
    relu_pending = False
    for module in net:
        if type(module) is nn.Identity:
            continue
        if type(module) is nn.ReLU:
            if relu_pending or not layers:
                return None
            relu_pending = True
        elif type(module) is BayesianLinear:
            if layers and not relu_pending:
                return None
            layers.append(module)
            relu_pending = False
        else:
            return None
    return tuple(layers) if layers and not relu_pending else None
