"""Post-hoc Laplace approximation of a trained network's weight posterior, with GLM and Monte Carlo predictives."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap
from torch.utils.data import DataLoader, Dataset

from ...data.loader import as_batches, in_memory_tensors
from ...errors import InputError
from ...io import serializable
from ...nn.heads import HeteroscedasticGaussianHead
from ...results import (
    CategoricalDraws,
    ClassificationPrediction,
    FunctionDraws,
    GaussianDraws,
    RegressionPrediction,
)
from ...validation import check_labels, check_positive_float, check_positive_int, check_tensor
from .structures import DiagonalPrecision, EigenPrecision, KroneckerPrecision, stored
from .subnetwork import Subset, last_linear, select_parameters

HessianStructure = Literal["diag", "kron", "full", "lowrank"]
Curvature = Literal["ggn", "ef"]
Link = Literal["probit", "bridge", "mc"]
Predictive = Literal["glm", "nn"]

_FULL_LIMIT = (
    12_000  # a dense P x P curvature above this many parameters needs > 0.5 GiB: use lowrank, kron or diag
)


def _batches(data: Any, batch_size: int, device: torch.device) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """(x, y) batches on ``device``: in-memory data, a Dataset or a DataLoader through the shared
    :func:`bayesdl.data.as_batches` (unshuffled), or any other iterable of (x, y) batches as it is."""
    tensors = in_memory_tensors(data)
    if tensors is not None:
        if not isinstance(tensors, tuple) or len(tensors) != 2:
            raise InputError(
                "data must be an (x, y) pair of tensors or an iterable of (x, y) batches, got "
                f"{len(tensors) if isinstance(tensors, tuple) else 1} tensor(s)"
            )
        if len(tensors[0]) == 0:
            raise InputError("the data are empty: a Laplace approximation needs training data")
    if tensors is not None or isinstance(data, (DataLoader, Dataset)):
        return as_batches(data, batch_size=batch_size, shuffle=False, device=device)
    if isinstance(
        data, Iterable
    ):  # e.g. a list of (x, y) batches, which as_batches would read as a Dataset of examples
        return data
    raise InputError(
        f"data must be an (x, y) pair of tensors or an iterable of (x, y) batches, got {type(data).__name__}"
    )


@serializable
class Laplace(nn.Module):
    """A Gaussian approximation N(theta_MAP, (H + delta I)^{-1}) to the posterior of (some of) a trained network's weights.

    Around the trained weights theta_MAP, the log posterior is expanded to second order. The curvature H is the
    generalised Gauss-Newton matrix H = sum_n J_n^T Lambda_n J_n (J_n the Jacobian of the outputs f(x_n) with respect
    to the covered weights, Lambda_n the Hessian of -log p(y_n | f) in f: diag(p) - p p^T for a softmax, 1/sigma^2
    for a Gaussian) or the empirical Fisher sum_n g_n g_n^T of per-example gradients; delta is an isotropic Gaussian
    prior precision. Four structures of H are offered: ``"diag"``, ``"kron"`` (KFAC, linear layers only), ``"full"``
    (small subsets) and ``"lowrank"`` (the top ``rank`` eigenpairs, by a randomised eigensolver).

    Predictions:

    - ``"glm"`` (the default, MacKay 1992; Immer et al. 2021): the network linearised at theta_MAP,
      f(x) ~ N(f(x; theta_MAP), J(x) Sigma J(x)^T). For regression the predictive is Gaussian in closed form with
      variance sigma^2 (aleatoric) + J Sigma J^T (epistemic). For classification, :meth:`probs` offers the probit
      approximation softmax(f / sqrt(1 + pi/8 diag(J Sigma J^T))), the Laplace bridge (a Dirichlet matched to the
      Gaussian; Hobbhahn et al. 2022) or Monte Carlo over f.
    - ``"nn"``: weights drawn from the Gaussian and pushed through the network (Monte Carlo).

    The prior precision can be tuned post hoc by maximising the Laplace evidence
    log p(D | delta) ~= log p(D | theta_MAP) - delta/2 ||theta_MAP||^2 + P/2 log delta - 1/2 log det(H + delta I),
    or by the NLL on validation data (:meth:`optimize_prior_precision`); during training,
    :class:`~bayesdl.inference.OnlineMarglik` tunes it online through :meth:`log_evidence`
    (Immer et al. 2021, arXiv:2104.04975).

    Arguments:
        model: a trained ``PlainNet`` (its net and likelihood are used) or a bare ``nn.Module`` whose outputs are
            class logits or regression means; the last module that computes the outputs must be linear in the
            covered weights for ``subset="last_layer"``.
        likelihood: "classification" or "regression" for a bare network (taken from a PlainNet otherwise).
        subset: "last_layer", "all", or a list of module names whose weights are covered.
        hessian: the structure of H.
        curvature: "ggn" (generalised Gauss-Newton) or "ef" (empirical Fisher).
        prior_precision: the initial delta > 0.
        noise_std: the regression noise sd sigma (a PlainNet's homoscedastic head supplies its own).
        rank: the number of eigenpairs for ``hessian="lowrank"``.
        batch_size: examples per Jacobian chunk when the data are given as tensors.
        seed: seeds the randomised eigensolver.

    Example:
        >>> from bayesdl.models.nets import MLP
        >>> net = MLP(2, [16], 3)
        >>> x, y = torch.randn(64, 2), torch.randint(0, 3, (64,))
        >>> la = Laplace(net, likelihood="classification", hessian="kron").fit((x, y))
        >>> la.optimize_prior_precision().prior_precision > 0
        True
        >>> la.probs(x[:4], link="probit").shape
        torch.Size([4, 3])

    References:
        MacKay (1992), A Practical Bayesian Framework for Backpropagation Networks, Neural Computation 4(3);
        Ritter, Botev & Barber (2018), A Scalable Laplace Approximation for Neural Networks, ICLR;
        Immer, Korzepa & Bauer (2021), Improving predictions of Bayesian neural nets via local linearization,
        arXiv:2008.08400; Daxberger, Kristiadi, Immer, Eschenhagen, Bauer & Hennig (2021), Laplace Redux,
        arXiv:2106.14806; Hobbhahn, Kristiadi & Hennig (2022), Fast Predictive Uncertainty for Classification with
        Bayesian Deep Networks, arXiv:2003.01227; Halko, Martinsson & Tropp (2011), arXiv:0909.4061.
    """

    def __init__(
        self,
        model: nn.Module,
        likelihood: Literal["classification", "regression"] | None = None,
        subset: Subset | Sequence[str] = "last_layer",
        hessian: HessianStructure = "kron",
        curvature: Curvature = "ggn",
        prior_precision: float = 1.0,
        noise_std: float = 1.0,
        rank: int = 50,
        batch_size: int = 256,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        net, kind, sigma = self._unwrap(model, likelihood, noise_std)
        if hessian not in ("diag", "kron", "full", "lowrank"):
            raise InputError(f"hessian must be 'diag', 'kron', 'full' or 'lowrank', got {hessian!r}")
        if curvature not in ("ggn", "ef"):
            raise InputError(f"curvature must be 'ggn' or 'ef', got {curvature!r}")
        prior_precision = check_positive_float(prior_precision, "prior_precision")
        self.net = net
        self.kind = kind
        self.noise_std = sigma
        self.subset = subset
        self.hessian = hessian
        self.curvature = curvature
        self.prior_precision = prior_precision
        self.rank = check_positive_int(rank, "rank")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.seed = seed
        self._params = select_parameters(net, subset)
        object.__setattr__(
            self, "_last_layer", last_linear(net)[1] if subset == "last_layer" else None
        )  # not a submodule
        self._names = list(self._params)
        self.num_params = sum(p.numel() for p in self._params.values())
        if hessian == "full" and self.num_params > _FULL_LIMIT:
            raise InputError(
                f"hessian='full' over {self.num_params} parameters needs a {self.num_params}^2 matrix; use a smaller subset, "
                f"or 'lowrank', 'kron' or 'diag' (the limit is {_FULL_LIMIT})"
            )
        self._layers = self._linear_blocks() if hessian == "kron" else None
        self.precision_structure: DiagonalPrecision | EigenPrecision | KroneckerPrecision | None = None
        self._num_outputs: int | None = (
            None  # C, the network's output width, read at the first labelled batch
        )

    # ----------------------------------------------------------------------------------------------- set-up
    @staticmethod
    def _unwrap(model: nn.Module, likelihood: str | None, noise_std: float) -> tuple[nn.Module, str, float]:
        if not isinstance(model, nn.Module):
            raise InputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        head = getattr(model, "likelihood", None)
        if hasattr(model, "net") and getattr(head, "kind", None) in ("classification", "regression"):
            if isinstance(head, HeteroscedasticGaussianHead):
                raise InputError(
                    "Laplace supports categorical and homoscedastic Gaussian likelihoods, not heteroscedastic"
                )
            sigma = float(head.noise_std.detach()) if hasattr(head, "noise_std") else 1.0
            return model.net, head.kind, sigma
        if likelihood not in ("classification", "regression"):
            raise InputError(
                f"likelihood must be 'classification' or 'regression' for a bare network, got {likelihood!r}"
            )
        if not noise_std > 0:
            raise InputError(f"noise_std must be positive, got {noise_std!r}")
        return model, likelihood, float(noise_std)

    def _linear_blocks(self) -> list[tuple[nn.Linear, str]]:
        """The linear layers whose weight (and bias) make up the covered parameters, in parameter order."""
        modules = dict(self.net.named_modules())
        blocks, names = [], list(self._names)
        while names:
            owner = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
            layer = modules.get(owner)
            if not isinstance(layer, nn.Linear):
                raise InputError(
                    f"hessian='kron' supports nn.Linear layers only; {names[0]!r} belongs to "
                    f"{type(layer).__name__}: use hessian='diag' or 'lowrank' for it"
                )
            expected = [f"{owner}.weight" if owner else "weight"] + (
                [f"{owner}.bias" if owner else "bias"] if layer.bias is not None else []
            )
            if names[: len(expected)] != expected:
                raise InputError(
                    f"hessian='kron' needs both the weight and the bias of layer {owner!r} in the subset"
                )
            blocks.append((layer, owner))
            names = names[len(expected) :]
        return blocks

    @property
    def _device(self) -> torch.device:
        return next(iter(self._params.values())).device

    def _map_vector(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self._params.values()])

    # ------------------------------------------------------------------------------------------ derivatives
    def _outputs(self, x: torch.Tensor) -> torch.Tensor:
        f = self.net(x)
        if f.dim() == 1:
            f = f.unsqueeze(-1)
        if f.dim() != 2:
            raise InputError(f"the network must return outputs [B, C], got shape {list(f.shape)}")
        return f

    def _jacobians(
        self, x: torch.Tensor, params: dict[str, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Network outputs [B, C] and their Jacobians [B, C, P] with respect to the covered parameters."""
        if params is None and self.subset == "last_layer":
            return self._last_layer_jacobians(x)
        params = params if params is not None else {n: p.detach() for n, p in self._params.items()}

        def single(p: dict[str, torch.Tensor], xi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = functional_call(self.net, p, (xi.unsqueeze(0),)).reshape(-1)
            return out, out

        jac, out = vmap(jacrev(single, has_aux=True), in_dims=(None, 0))(params, x)
        return out, torch.cat([jac[n].flatten(2) for n in params], dim=-1)

    def _last_layer_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The outputs [B, C] and the inputs phi(x) [B, in] of the output layer."""
        seen: list[torch.Tensor] = []
        handle = self._last_layer.register_forward_hook(lambda module, args, out: seen.append(args[0]))
        try:
            with torch.no_grad():
                f = self._outputs(x)
        finally:
            handle.remove()
        return f, seen[-1].reshape(len(x), -1)

    def _last_layer_jacobians(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For f = W phi(x) + b the Jacobian is d f_c / d W_oi = [c = o] phi_i and d f_c / d b_o = [c = o]: no autograd."""
        layer = self._last_layer
        f, features = self._last_layer_features(x)
        eye = torch.eye(layer.out_features, dtype=f.dtype, device=f.device)
        jac = torch.einsum("bi,co->bcoi", features, eye).flatten(2)
        if layer.bias is not None:
            jac = torch.cat([jac, eye.expand(len(x), -1, -1)], dim=-1)
        return f, jac

    def _output_hessian_root(self, f: torch.Tensor) -> torch.Tensor:
        """M [B, C, C'] with M M^T the Hessian of -log p(y | f) in f."""
        if self.kind == "regression":
            return torch.full((f.shape[0], 1, 1), 1.0 / self.noise_std, dtype=f.dtype, device=f.device)
        p = f.softmax(-1)
        root = p.sqrt()
        return torch.diag_embed(root) - p.unsqueeze(-1) * root.unsqueeze(-2)

    def _output_gradient(self, f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """d(-log p(y | f)) / df, [B, C, 1] (for the empirical Fisher)."""
        if self.kind == "regression":
            return ((f[:, 0] - y) / self.noise_std**2).reshape(-1, 1, 1)
        return (f.softmax(-1) - nn.functional.one_hot(y, f.shape[1]).to(f.dtype)).unsqueeze(-1)

    def _log_likelihood(self, f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "regression":
            var = self.noise_std**2
            return (-0.5 * (y - f[:, 0]) ** 2 / var - 0.5 * math.log(2 * math.pi * var)).sum()
        return -nn.functional.cross_entropy(f, y, reduction="sum")

    def _check_batch(self, x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor(x, "x", floating=True)
        check_tensor(y, "y", shape=[len(x)])
        x = x.to(self._device)
        if self.kind == "classification":
            if y.is_floating_point() or y.dtype == torch.bool:
                raise InputError(f"y must hold integer class labels for classification, got dtype {y.dtype}")
            # an out-of-range label would fail deep inside one_hot / cross_entropy, or (-100) be silently ignored
            y = check_labels(y, "y", len(x), self._output_width(x))
        elif not y.is_floating_point():
            raise InputError(f"y must be a floating tensor for regression, got dtype {y.dtype}")
        return x, y.to(self._device)

    def _output_width(self, x: torch.Tensor) -> int:
        """C, the number of network outputs: read once from a forward pass of one example (eval mode, no gradient)."""
        if self._num_outputs is None:
            was_training = self.net.training
            self.net.eval()
            try:
                with torch.no_grad():
                    self._num_outputs = self._outputs(x[:1]).shape[1]
            finally:
                self.net.train(was_training)
        return self._num_outputs

    def _square_root_rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Z [B, K, P] with H = sum_b Z_b^T Z_b for this batch, and the outputs [B, C]."""
        f, jac = self._jacobians(x)
        weights = self._output_hessian_root(f) if self.curvature == "ggn" else self._output_gradient(f, y)
        return torch.einsum("bck,bcp->bkp", weights, jac), f

    # ------------------------------------------------------------------------------------------ save / load
    def fitted_state(self) -> dict[str, torch.Tensor]:
        """The tensors :func:`bayesdl.save` stores beside the network's weights: the curvature factors, the prior
        precision and noise sd, N and the MAP log-likelihood (an unfitted model stores only the two floats)."""
        f64 = dict(dtype=torch.float64, device="cpu")
        state = {
            "prior_precision": torch.tensor(self.prior_precision, **f64),
            "noise_std": torch.tensor(self.noise_std, **f64),
        }
        if self.precision_structure is not None:
            state.update(self.precision_structure.state())
            state["num_data"] = torch.tensor(self.num_data, dtype=torch.int64)
            state["log_likelihood_map"] = torch.tensor(self.log_likelihood_map, **f64)
        return state

    def load_fitted_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`fitted_state` stored, checking every name, shape and dtype (for :func:`bayesdl.load`)."""
        scalar = ()
        prior = check_positive_float(
            float(stored(state, "prior_precision", scalar, torch.float64)), "prior_precision"
        )
        self.prior_precision, self.noise_std = prior, float(stored(state, "noise_std", scalar, torch.float64))
        if "num_data" not in state:
            self.precision_structure = None
            return
        dtype = next(iter(self._params.values())).dtype
        if self.hessian == "kron":
            shapes = [
                (layer.out_features, layer.in_features, layer.bias is not None) for layer, _ in self._layers
            ]
            structure: Any = KroneckerPrecision.from_state(state, shapes, dtype)
        elif self.hessian == "diag":
            structure = DiagonalPrecision.from_state(state, self.num_params, dtype)
        else:
            structure = EigenPrecision.from_state(state, self.num_params, dtype)
        self.num_data = int(stored(state, "num_data", scalar, torch.int64))
        self.log_likelihood_map = float(stored(state, "log_likelihood_map", scalar, torch.float64))
        self.precision_structure = structure

    # ---------------------------------------------------------------------------------------------- fitting
    def fit(self, data: Any) -> Laplace:
        """Compute the curvature over the training data: an (x, y) pair of tensors or an iterable of batches.

        Returns ``self``; the network must already be trained (its weights are the posterior mode).
        """
        was_training = self.net.training
        self.net.eval()
        try:
            if self.hessian == "kron":
                self.precision_structure, log_lik, n = self._fit_kron(data)
            elif self.hessian == "lowrank":
                self.precision_structure, log_lik, n = self._fit_lowrank(data)
            else:
                self.precision_structure, log_lik, n = self._fit_dense_or_diag(data)
        finally:
            self.net.train(was_training)
        if n == 0:
            raise InputError("the data are empty: a Laplace approximation needs training data")
        self.num_data = n
        self.log_likelihood_map = float(log_lik)
        return self

    def _fit_dense_or_diag(self, data: Any) -> tuple[Any, torch.Tensor, int]:
        dtype = next(iter(self._params.values())).dtype
        acc = torch.zeros(
            self.num_params if self.hessian == "diag" else (self.num_params, self.num_params),
            dtype=dtype,
            device=self._device,
        )
        log_lik, n = torch.zeros((), dtype=dtype, device=self._device), 0
        for x, y in _batches(data, self.batch_size, self._device):
            x, y = self._check_batch(x, y)
            with torch.no_grad():
                rows, f = self._square_root_rows(x, y)
                acc += (
                    (rows**2).sum((0, 1))
                    if self.hessian == "diag"
                    else torch.einsum("bkp,bkq->pq", rows, rows)
                )
                log_lik += self._log_likelihood(f, y)
            n += len(x)
        self._check_finite(acc)
        if self.hessian == "diag":
            return DiagonalPrecision(acc), log_lik, n
        values, vectors = torch.linalg.eigh(acc.double())
        return EigenPrecision(values.to(dtype), vectors.to(dtype)), log_lik, n

    def _fit_lowrank(self, data: Any) -> tuple[Any, torch.Tensor, int]:
        """Randomised eigensolver with one power iteration: three passes of H-times-matrix products over the data."""
        batches = list(_batches(data, self.batch_size, self._device))
        dtype = next(iter(self._params.values())).dtype
        k = min(self.rank, self.num_params)
        width = min(k + 10, self.num_params)
        generator = torch.Generator(device="cpu")
        if self.seed is None:
            generator.seed()
        else:
            generator.manual_seed(self.seed)
        omega = torch.randn(self.num_params, width, generator=generator, dtype=dtype).to(self._device)
        stats: dict[str, Any] = {}

        def times_h(matrix: torch.Tensor) -> torch.Tensor:
            out = torch.zeros_like(matrix)
            log_lik, n = 0.0, 0
            for x, y in batches:
                x, y = self._check_batch(x, y)
                with torch.no_grad():
                    rows, f = self._square_root_rows(x, y)
                    out += torch.einsum("bkp,bkw->pw", rows, torch.einsum("bkp,pw->bkw", rows, matrix))
                    log_lik += float(self._log_likelihood(f, y))
                n += len(x)
            stats.update(log_lik=log_lik, n=n)
            return out

        q, _ = torch.linalg.qr(times_h(omega))
        q, _ = torch.linalg.qr(times_h(q))
        hq = times_h(q)
        self._check_finite(hq)
        small = q.T @ hq
        values, vectors = torch.linalg.eigh(0.5 * (small + small.T))
        values, vectors = values.flip(0)[:k], (q @ vectors).flip(1)[:, :k]
        return (
            EigenPrecision(values, vectors),
            torch.tensor(stats["log_lik"], dtype=torch.float64),
            stats["n"],
        )

    def _fit_kron(self, data: Any) -> tuple[Any, torch.Tensor, int]:
        layers = [layer for layer, _ in self._layers]
        dtype = next(iter(self._params.values())).dtype
        widths = [layer.in_features + int(layer.bias is not None) for layer in layers]
        a_sums = [torch.zeros(w, w, dtype=dtype, device=self._device) for w in widths]
        g_sums = [
            torch.zeros(layer.out_features, layer.out_features, dtype=dtype, device=self._device)
            for layer in layers
        ]
        inputs: dict[nn.Module, torch.Tensor] = {}
        outputs: dict[nn.Module, torch.Tensor] = {}

        def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
            if args[0].dim() != 2:
                raise InputError(
                    f"hessian='kron' needs linear layers applied to [B, features] inputs, got {list(args[0].shape)}"
                )
            inputs[module], outputs[module] = args[0].detach(), out

        handles = [layer.register_forward_hook(hook) for layer in layers]
        log_lik, n = torch.zeros((), dtype=dtype, device=self._device), 0
        try:
            for x, y in _batches(data, self.batch_size, self._device):
                x, y = self._check_batch(x, y)
                with torch.enable_grad():
                    f = self._outputs(x)
                    for k, layer in enumerate(layers):
                        a = inputs[layer]
                        if layer.bias is not None:
                            a = torch.cat([a, torch.ones_like(a[:, :1])], dim=1)
                        a_sums[k] += a.T @ a
                    if self.curvature == "ggn":
                        root = self._output_hessian_root(f.detach())
                        targets = [(f * root[:, :, j]).sum() for j in range(root.shape[2])]
                    else:
                        targets = [-(self._log_likelihood(f, y))]
                    for target in targets:
                        grads = torch.autograd.grad(
                            target, [outputs[layer] for layer in layers], retain_graph=True
                        )
                        for k, g in enumerate(grads):
                            g_sums[k] += g.T @ g
                    log_lik += self._log_likelihood(f.detach(), y)
                n += len(x)
        finally:
            for h in handles:
                h.remove()
        blocks = []
        for a_sum, g_sum in zip(a_sums, g_sums):
            self._check_finite(a_sum)
            self._check_finite(g_sum)
            a_val, a_vec = torch.linalg.eigh(a_sum.double() / max(n, 1))
            g_val, g_vec = torch.linalg.eigh(g_sum.double())
            blocks.append(
                (g_val.clamp_min(0).to(dtype), g_vec.to(dtype), a_val.clamp_min(0).to(dtype), a_vec.to(dtype))
            )
        shapes = [(layer.out_features, layer.in_features, layer.bias is not None) for layer in layers]
        return KroneckerPrecision(blocks, shapes), log_lik, n

    @staticmethod
    def _check_finite(t: torch.Tensor) -> None:
        if not bool(torch.isfinite(t).all()):
            raise InputError(
                "the curvature has NaN or infinite entries: check the trained network and the data"
            )

    def _check_fitted(self) -> None:
        if self.precision_structure is None:
            raise InputError("call fit(train_data) before using the Laplace approximation")

    # ----------------------------------------------------------------------------------- prior and evidence
    def log_marginal_likelihood(self, prior_precision: float | None = None) -> float:
        """The Laplace estimate of log p(D | delta) in nats (of the whole data set); an approximation, not a bound."""
        self._check_fitted()
        delta = self.prior_precision if prior_precision is None else prior_precision
        delta = check_positive_float(delta, "prior_precision")
        return float(self._log_evidence(torch.tensor(delta, dtype=torch.float64)))

    def _log_evidence(self, delta: torch.Tensor) -> torch.Tensor:
        return self.log_evidence(delta).cpu()

    def covered_parameters(self) -> list[nn.Parameter]:
        """The network parameters the approximation covers (the ones the prior precision applies to), in order."""
        return list(self._params.values())

    def log_evidence(
        self, prior_precision: torch.Tensor, noise_std: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The Laplace log evidence in nats as a differentiable float64 function of delta (and, for regression, sigma).

        The curvature and the weights stay those of the last :meth:`fit`. For regression with a noise sd sigma
        other than the fitted sigma_0, the MAP log-likelihood is re-evaluated from the residual sum of squares
        SSE = -2 sigma_0^2 (log p(D | theta) + N/2 log(2 pi sigma_0^2)), and the curvature is rescaled:
        H(sigma) = (sigma_0 / sigma)^2 H(sigma_0) for the GGN, (sigma_0 / sigma)^4 for the empirical Fisher.

        Arguments:
            prior_precision: delta > 0, a scalar tensor (gradients flow through it).
            noise_std: sigma > 0 for regression (None: the fitted sigma_0); must be None for classification.
        """
        self._check_fitted()
        device = self._device
        delta = torch.as_tensor(prior_precision, dtype=torch.float64, device=device)
        theta = self._map_vector().double()
        log_lik = torch.as_tensor(self.log_likelihood_map, dtype=torch.float64, device=device)
        scale: torch.Tensor | float = 1.0
        if noise_std is not None:
            if self.kind != "regression":
                raise InputError(
                    "noise_std applies to regression only; a classifier's evidence has no noise sd"
                )
            sigma = torch.as_tensor(noise_std, dtype=torch.float64, device=device)
            var0, n = self.noise_std**2, self.num_data
            sse = -2.0 * var0 * (self.log_likelihood_map + 0.5 * n * math.log(2 * math.pi * var0))
            log_lik = -0.5 * sse / sigma**2 - 0.5 * n * torch.log(2 * math.pi * sigma**2)
            scale = (var0 / sigma**2) ** (1 if self.curvature == "ggn" else 2)
        log_det = self.precision_structure.log_det(delta, scale).double()
        return (
            log_lik - 0.5 * delta * (theta @ theta) + 0.5 * self.num_params * torch.log(delta) - 0.5 * log_det
        )

    def optimize_prior_precision(
        self,
        method: Literal["marglik", "val_nll"] = "marglik",
        val_data: tuple[torch.Tensor, torch.Tensor] | None = None,
        grid: Sequence[float] | None = None,
        link: Link = "probit",
    ) -> Laplace:
        """Set ``prior_precision`` by maximising the Laplace evidence, or minimising the validation NLL.

        The evidence is maximised over log delta in [-10, 10] (natural log) by a grid of 41 points refined with
        a bounded Brent search; the validation NLL is minimised over ``grid`` (default: 21 values from 1e-4 to 1e4).
        Returns ``self``.
        """
        self._check_fitted()
        if method == "marglik":
            from scipy.optimize import minimize_scalar

            def negative(log_delta: float) -> float:
                return -float(self._log_evidence(torch.tensor(math.exp(log_delta), dtype=torch.float64)))

            points = torch.linspace(-10, 10, 41).tolist()
            values = [negative(p) for p in points]
            best = min(range(len(points)), key=values.__getitem__)
            low, high = points[max(best - 1, 0)], points[min(best + 1, len(points) - 1)]
            result = minimize_scalar(negative, bounds=(low, high), method="bounded", options={"xatol": 1e-4})
            self.prior_precision = float(math.exp(result.x if result.fun <= values[best] else points[best]))
            return self
        if method != "val_nll":
            raise InputError(f"method must be 'marglik' or 'val_nll', got {method!r}")
        if val_data is None:
            raise InputError("method='val_nll' needs val_data=(x_val, y_val)")
        x_val, y_val = self._check_batch(*val_data)
        grid = list(grid) if grid is not None else [10.0**e for e in torch.linspace(-4, 4, 21).tolist()]
        scores = []
        for delta in grid:
            check_positive_float(delta, "grid value")
            scores.append(self._validation_nll(x_val, y_val, delta, link))
        self.prior_precision = float(grid[min(range(len(grid)), key=scores.__getitem__)])
        return self

    def _validation_nll(self, x: torch.Tensor, y: torch.Tensor, delta: float, link: Link) -> float:
        previous, self.prior_precision = self.prior_precision, delta
        try:
            if self.kind == "classification":
                p = self.probs(x, link=link).clamp_min(1e-40)
                return float(-p.gather(1, y.unsqueeze(1)).log().mean())
            pred = self.predict_regression(x)
            var = pred.epistemic + pred.aleatoric
            return float((0.5 * (y - pred.mean) ** 2 / var + 0.5 * torch.log(2 * math.pi * var)).mean())
        finally:
            self.prior_precision = previous

    # -------------------------------------------------------------------------------------------- predictive
    def _functional(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Linearised predictive mean [B, C] and covariance [B, C, C] of the network outputs."""
        self._check_fitted()
        check_tensor(x, "x", floating=True)
        x = x.to(self._device)
        was_training = self.net.training
        self.net.eval()
        try:
            means, covs = [], []
            for chunk in torch.split(x, self.batch_size):
                if self._last_layer is not None and isinstance(self.precision_structure, KroneckerPrecision):
                    f, features = self._last_layer_features(chunk)
                    cov = self.precision_structure.output_layer_covariance(features, self.prior_precision)
                else:
                    f, jac = self._jacobians(chunk)
                    cov = self.precision_structure.functional_covariance(jac.detach(), self.prior_precision)
                means.append(f.detach())
                covs.append(cov)
        finally:
            self.net.train(was_training)
        return torch.cat(means), torch.cat(covs)

    def _generator(self, seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
        if generator is not None:
            return generator
        if seed is None:
            return None
        return torch.Generator(device=self._device).manual_seed(seed)

    def probs(
        self,
        x: torch.Tensor,
        link: Link = "probit",
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Predictive class probabilities [B, C] of the linearised network (classification)."""
        if self.kind != "classification":
            raise InputError("probs() is for classification; use predict_regression() for a regression model")
        mean, cov = self._functional(x)
        var = torch.diagonal(cov, dim1=-2, dim2=-1).clamp_min(0)
        if link == "probit":
            return (mean / torch.sqrt(1.0 + math.pi / 8.0 * var)).softmax(-1)
        if link == "bridge":
            c = mean.shape[-1]
            centred = mean - mean.mean(-1, keepdim=True)
            projector = torch.eye(c, dtype=cov.dtype, device=cov.device) - 1.0 / c
            var = torch.diagonal(projector @ cov @ projector, dim1=-2, dim2=-1).clamp_min(1e-12)
            alpha = (1.0 - 2.0 / c + centred.exp() * (-centred).exp().sum(-1, keepdim=True) / c**2) / var
            return alpha / alpha.sum(-1, keepdim=True)
        if link == "mc":
            return (
                self._function_draws(mean, cov, num_samples, self._generator(seed, generator))
                .softmax(-1)
                .mean(0)
            )
        raise InputError(f"link must be 'probit', 'bridge' or 'mc', got {link!r}")

    @staticmethod
    def _function_draws(
        mean: torch.Tensor, cov: torch.Tensor, num_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        jitter = 1e-6 * torch.diagonal(cov, dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)[:, None, None]
        chol = torch.linalg.cholesky(
            cov + jitter * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
        )
        eps = torch.randn(num_samples, *mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        return mean + torch.einsum("bcd,sbd->sbc", chol, eps)

    def predict_regression(self, x: torch.Tensor) -> RegressionPrediction:
        """The closed-form GLM predictive N(f(x), sigma^2 + J Sigma J^T) for regression."""
        if self.kind != "regression":
            raise InputError("predict_regression() is for regression; use probs() for a classifier")
        mean, cov = self._functional(x)
        epistemic = cov[:, 0, 0].clamp_min(0)
        return RegressionPrediction(
            mean=mean[:, 0], epistemic=epistemic, aleatoric=torch.full_like(epistemic, self.noise_std**2)
        )

    def sample_parameters(
        self, num_samples: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws [S, P] of the covered weights from N(theta_MAP, (H + delta I)^{-1})."""
        self._check_fitted()
        check_positive_int(num_samples, "num_samples")
        g = self._generator(seed, generator)
        return self._map_vector() + self.precision_structure.sample(num_samples, self.prior_precision, g)

    def predictive_samples(
        self,
        x: torch.Tensor,
        num_samples: int,
        predictive: Predictive = "glm",
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> CategoricalDraws | GaussianDraws:
        """S draws of the predictive: of the linearised outputs (``"glm"``) or of the network with sampled weights (``"nn"``)."""
        draws = self.predictive_draws(x, num_samples, predictive, seed=seed, generator=generator)
        if draws.probs is not None:
            return CategoricalDraws(draws.probs[0])
        return GaussianDraws(draws.means[0], draws.noise_variances[0])

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        predictive: Predictive = "glm",
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """One chain of S predictive draws; with ``predictive="nn"`` also the weight draws ``theta`` [1, S, P].

        With ``"glm"`` the draws are of the linearised network's outputs f(x) ~ N(f_MAP(x), J Sigma J^T), a
        function-space posterior with no weights behind each draw.
        """
        check_positive_int(num_samples, "num_samples")
        g = self._generator(seed, generator)
        parameters = {}
        if predictive == "nn":
            theta = self.sample_parameters(num_samples, generator=g)
            f, parameters = self._network_draws(x, theta), {"theta": theta}
        elif predictive == "glm":
            mean, cov = self._functional(x)
            f = self._function_draws(mean, cov, num_samples, g)
        else:
            raise InputError(f"predictive must be 'glm' or 'nn', got {predictive!r}")
        draws = (
            CategoricalDraws(f.softmax(-1))
            if self.kind == "classification"
            else GaussianDraws(f[..., 0], torch.full_like(f[..., 0], self.noise_std**2))
        )
        note = (
            "outputs of the linearised network (GLM predictive) per draw"
            if predictive == "glm"
            else "one network with weights from the Laplace Gaussian per draw"
        )
        return FunctionDraws.from_draws(draws, "laplace", parameters=parameters, bayesian=True, note=note)

    def _network_draws(self, x: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", floating=True)
        x = x.to(self._device)
        shapes = [(n, p.shape, p.numel()) for n, p in self._params.items()]
        was_training = self.net.training
        self.net.eval()
        try:
            draws = []
            with torch.no_grad():
                for theta in flat:
                    params, start = {}, 0
                    for name, shape, size in shapes:
                        params[name] = theta[start : start + size].reshape(shape)
                        start += size
                    out = functional_call(self.net, params, (x,))
                    draws.append(out.unsqueeze(-1) if out.dim() == 1 else out)
        finally:
            self.net.train(was_training)
        return torch.stack(draws)

    def predict(
        self, x: torch.Tensor, num_samples: int = 100, link: Link = "probit"
    ) -> ClassificationPrediction | RegressionPrediction:
        """The predictive summary used by :func:`bayesdl.inference.predictive.predict`.

        Regression: the closed form. Classification: the entropy decomposition from ``num_samples`` GLM draws, with
        the probabilities replaced by the ``link`` approximation (Monte Carlo when ``link="mc"``).
        """
        if self.kind == "regression":
            return self.predict_regression(x)
        summary = ClassificationPrediction.from_draws(self.predictive_samples(x, num_samples))
        if link == "mc":
            return summary
        probs = self.probs(x, link=link)
        entropy = (probs * torch.where(probs > 0, -probs.log(), torch.zeros_like(probs))).sum(-1)
        return ClassificationPrediction(
            probs=probs, entropy=entropy, expected_entropy=summary.expected_entropy.clamp(max=entropy)
        )
