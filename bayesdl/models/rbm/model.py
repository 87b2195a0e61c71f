"""The restricted Boltzmann machine model: energy, conditionals, Gibbs sampling, CD/PCD loss and log Z."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...deprecation import sample_call_forms
from ...errors import BayesdlError, InputError
from ...io import serializable
from ...montecarlo.annealing import annealed_importance_sampling
from ...montecarlo.gibbs import block_gibbs
from ...ops.hardware import BFLOAT16_OPTIONS, BFloat16Option, resolve_bfloat16
from ...ops.random_bits import bernoulli
from ...progress import Progress
from ...randomness import make_generator
from ...results.estimates import LogPartitionEstimate
from ...results.gibbs import GibbsResult
from ...validation import check_binary, check_choice, check_positive_int, check_tensor, is_checked
from .annealing_path import RBMAnnealingPath
from .cd_gradient import FreeEnergyGap, cd_statistics

VISIBLE_TYPES = ("bernoulli", "gaussian")
TRAINING_METHODS = ("cd", "pcd")
MAX_ENUMERATION_UNITS = 20
_LOG_2PI = math.log(2.0 * math.pi)


class StaleLogPartitionError(BayesdlError, RuntimeError):
    """log p(v) was asked for while no estimate of log Z exists for the current parameters."""


def binary_states(
    num_units: int,
    start: int = 0,
    stop: int | None = None,
    *,
    device: Any = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """All binary vectors of length ``num_units`` with indices in [start, stop), as rows (bit i = unit i)."""
    stop = 2**num_units if stop is None else stop
    index = torch.arange(start, stop, device=device)
    return ((index.unsqueeze(1) >> torch.arange(num_units, device=device)) & 1).to(dtype)


def _is_binary(v: torch.Tensor) -> bool:
    """True when every entry is exactly 0 or 1: v - v^2 vanishes exactly there and is nonzero (or NaN)
    for any other value, including NaN and infinities (one fused pass, about 3x cheaper than two
    comparisons and an ``all``)."""
    return not bool(torch.addcmul(v, v, v, value=-1.0).any())


@serializable
class RBM(nn.Module):
    """A restricted Boltzmann machine trained by CD-k or persistent CD through the shared Trainer.

    Energy (Bernoulli visible units v in {0,1}^D, hidden units h in {0,1}^H):

        E(v, h) = -b'v - c'h - v'W h,      p(v, h) = exp(-E(v, h)) / Z,

    so the conditionals factorise as p(h_j = 1 | v) = sigmoid(c_j + v'W_{:,j}) and
    p(v_i = 1 | h) = sigmoid(b_i + W_{i,:} h): the visible bias b enters p(v|h) and the hidden bias c
    enters p(h|v) (the seed notes swap them; see SEED_ERRATA.md, item 2). The free energy is
    F(v) = -log sum_h exp(-E(v, h)) = -b'v - sum_j softplus(c_j + v'W_{:,j}).

    The Gaussian-visible variant (for real-valued data standardised to unit variance per dimension,
    Hinton 2010, "A practical guide to training RBMs", UTML TR 2010-003) uses

        E(v, h) = ||v - b||^2 / 2 - c'h - v'W h,

    so p(v | h) = N(b + W h, I) and F(v) = ||v - b||^2 / 2 - sum_j softplus(c_j + v'W_{:,j}).

    Training maximises the log-likelihood with the contrastive-divergence approximation of its gradient:
    ``loss(v)`` is mean F(v_data) - mean F(v_neg) with the negative sample v_neg held fixed (no gradient
    flows through the sampler), so its gradient is the difference of the model's sufficient statistics
    under the data and under v_neg. v_neg comes from k Gibbs sweeps started at the data (CD-k, Hinton 2002)
    or from persistent chains that carry over between updates (PCD, Tieleman 2008).

    Arguments:
        num_visible: D, the number of visible units.
        num_hidden: H, the number of (binary) hidden units.
        visible: "bernoulli" for binary data or "gaussian" for real data with unit variance.
        method: "cd" (contrastive divergence, Hinton 2002) or "pcd" (persistent CD, Tieleman 2008).
        k: Gibbs sweeps per update (CD-k; for PCD the sweeps each persistent chain advances per update).
        num_chains: the number of persistent chains (PCD only).
        weight_decay: L2 penalty 0.5 * weight_decay * ||W||^2 on the weights (not the biases).
        sparsity_target: the desired mean activation p of the hidden units, or None for no penalty.
        sparsity_cost: the weight of the cross-entropy penalty between p and the batch-mean
            activation q_j over the minibatch (Hinton 2010, section 11; Lee, Ekanadham & Ng 2008).
        init_scale: the standard deviation of the initial weights (0.01 as in Hinton 2010).
        seed: seeds the weight initialisation.
        compute_dtype: "auto" (default), "float32" or "bfloat16": the dtype of the matrix products of training and
            Gibbs sampling. "bfloat16" uses bfloat16 inputs (float32 accumulation, results rounded to bfloat16:
            hidden inputs and gradients carry about 3 significant digits); the parameters (fp32 master weights), the
            optimiser, the free energies in ``log_prob`` and AIS stay float32, W is cast once per update and binary
            states are exact in bfloat16. It is faster only on hardware with bfloat16 arithmetic (CPUs with AMX or
            AVX512-BF16, bf16-capable CUDA devices); elsewhere it is emulated and several times slower than float32,
            and an explicit "bfloat16" warns once. "auto" picks bfloat16 exactly where it is native (see
            :mod:`bayesdl.ops.hardware`), float32 elsewhere. Speed and likelihood per precision and instruction
            set: ``benchmarks/RESULTS.md`` (``bench_rbm``).

    Momentum is an option of the optimiser, e.g.
    ``Trainer(rbm, optimizer="sgd", lr=0.05, optimizer_kwargs={"momentum": 0.5})``.

    Example:
        >>> import torch
        >>> from bayesdl.inference import Trainer
        >>> x = (torch.rand(200, 6, generator=torch.Generator().manual_seed(0)) < 0.3).float()
        >>> rbm = RBM(6, 4, method="pcd", num_chains=20).init_from_data(x)
        >>> _ = Trainer(rbm, optimizer="sgd", lr=0.05, epochs=2, batch_size=20, progress=False).fit(x)
        >>> rbm.log_prob(x[:3]).shape   # exact log Z: the hidden layer has only 4 units
        torch.Size([3])

    References:
        Smolensky (1986); Hinton (2002), Training products of experts by minimizing contrastive
        divergence, Neural Computation 14(8); Tieleman (2008), Training restricted Boltzmann
        machines using approximations to the likelihood gradient, ICML; Salakhutdinov & Murray
        (2008), On the quantitative analysis of deep belief networks, ICML; Hinton (2010), A
        practical guide to training RBMs, UTML TR 2010-003.
    """

    def __init__(
        self,
        num_visible: int,
        num_hidden: int,
        visible: str = "bernoulli",
        method: str = "cd",
        k: int = 1,
        num_chains: int = 100,
        weight_decay: float = 0.0,
        sparsity_target: float | None = None,
        sparsity_cost: float = 0.0,
        init_scale: float = 0.01,
        seed: int = 0,
        compute_dtype: BFloat16Option = "auto",
    ) -> None:
        super().__init__()
        self.num_visible = check_positive_int(num_visible, "num_visible")
        self.num_hidden = check_positive_int(num_hidden, "num_hidden")
        self.visible = str(check_choice(visible, "visible", VISIBLE_TYPES))
        self.method = str(check_choice(method, "method", TRAINING_METHODS))
        self.k = check_positive_int(k, "k")
        self.num_chains = check_positive_int(num_chains, "num_chains")
        if weight_decay < 0:
            raise InputError(f"weight_decay must be >= 0, got {weight_decay}")
        if sparsity_target is not None and not 0.0 < sparsity_target < 1.0:
            raise InputError(f"sparsity_target must lie in (0, 1), got {sparsity_target}")
        if sparsity_cost < 0:
            raise InputError(f"sparsity_cost must be >= 0, got {sparsity_cost}")
        self.weight_decay = float(weight_decay)
        self.sparsity_target = sparsity_target
        self.sparsity_cost = float(sparsity_cost)
        self.compute_dtype = str(check_choice(compute_dtype, "compute_dtype", BFLOAT16_OPTIONS))
        self._bfloat16_on: tuple[torch.device, bool] | None = None
        gen = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(init_scale * torch.randn(num_visible, num_hidden, generator=gen))
        self.visible_bias = nn.Parameter(torch.zeros(num_visible))
        self.hidden_bias = nn.Parameter(torch.zeros(num_hidden))
        # AIS base-rate model: visible logits (Bernoulli) or means (Gaussian) fitted to the data.
        self.register_buffer("base_visible_bias", torch.zeros(num_visible))
        # Persistent chains (PCD): the visible state and the hidden state drawn from it.
        chains = num_chains if method == "pcd" else 0
        self.register_buffer("chain_visible", torch.zeros(chains, num_visible))
        # (the binary hidden states in the compute dtype, as the next update's product takes them)
        self.register_buffer(
            "chain_hidden",
            torch.zeros(chains, num_hidden, dtype=torch.bfloat16 if self._uses_bfloat16() else torch.float32),
        )
        self.register_buffer("chain_ready", torch.zeros((), dtype=torch.bool))
        self._log_z_cache: tuple[tuple, LogPartitionEstimate] | None = None

    # ------------------------------------------------------------------ checks
    @property
    def gaussian(self) -> bool:
        """True for Gaussian visible units."""
        return self.visible == "gaussian"

    def check_visible(self, v: object, name: str = "v") -> torch.Tensor:
        """Check a batch of visible vectors: shape [B, D], finite, and binary for a Bernoulli RBM.

        A training batch whose tensor the trainer validated at the start of ``fit`` (with
        :meth:`check_data`) is not checked again (:func:`bayesdl.validation.is_checked`).
        """
        if isinstance(v, torch.Tensor) and is_checked(v):
            return v
        # for Bernoulli units the binary check also rejects NaN and inf, so the finite pass is skipped
        check_tensor(v, name, shape=[None, self.num_visible], floating=True, finite=self.gaussian)
        assert isinstance(v, torch.Tensor)
        if not self.gaussian and not _is_binary(v):
            if not bool(torch.isfinite(v).all()):
                raise InputError(f"{name} contains NaN or infinite values")
            check_binary(v, name)
        return v

    def check_data(self, v: torch.Tensor, name: str = "data") -> torch.Tensor:
        """The trainer's once-per-fit check of the training tensor (the same test as :meth:`check_visible`)."""
        return self.check_visible(v, name)

    # ------------------------------------------------------------------ energy and conditionals
    def hidden_logits(self, v: torch.Tensor) -> torch.Tensor:
        """The total input c + v'W of every hidden unit, shape [B, H]."""
        return torch.addmm(self.hidden_bias, v, self.weight)

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        """p(h_j = 1 | v) = sigmoid(c_j + v'W_{:,j}), shape [B, H]."""
        return torch.sigmoid(self.hidden_logits(v))

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """E[v | h]: sigmoid(b + W h) for Bernoulli units, b + W h for Gaussian units; shape [B, D]."""
        pre = torch.addmm(self.visible_bias, h, self.weight.t())
        return pre if self.gaussian else torch.sigmoid(pre)

    def _uses_bfloat16(self) -> bool:
        """Whether ``compute_dtype`` means bfloat16 products on the weights' device (resolved once per device)."""
        device = self.weight.device
        cached = self._bfloat16_on
        if cached is None or cached[0] != device:
            cached = self._bfloat16_on = (
                device,
                resolve_bfloat16(self.compute_dtype, device, f"RBM(compute_dtype={self.compute_dtype!r})"),
            )
        return cached[1]

    def _compute_weight(self) -> torch.Tensor:
        """W in the compute dtype (one bfloat16 copy per update in bfloat16 mode)."""
        return self.weight.to(torch.bfloat16) if self._uses_bfloat16() else self.weight

    def _hidden_input(self, v: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """c + v'W with the product in the compute dtype (``weight`` from :meth:`_compute_weight`), float32 out."""
        if weight.dtype == torch.bfloat16:
            return torch.add(self.hidden_bias, torch.mm(v.to(torch.bfloat16), weight))  # float32 out
        return torch.addmm(self.hidden_bias, v.to(weight.dtype), weight)

    def _visible_input(self, h: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if weight.dtype == torch.bfloat16:
            return torch.add(self.visible_bias, torch.mm(h.to(torch.bfloat16), weight.t()))  # float32 out
        return torch.addmm(self.visible_bias, h.to(weight.dtype), weight.t())

    def sample_hidden(self, v: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw h ~ p(h | v) (products in the compute dtype)."""
        return bernoulli(torch.sigmoid(self._hidden_input(v, self._compute_weight())), generator)

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw v ~ p(v | h) (products in the compute dtype)."""
        pre = self._visible_input(h, self._compute_weight())
        mean = pre if self.gaussian else torch.sigmoid(pre)
        if self.gaussian:
            return mean + torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return bernoulli(mean, generator)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) per example, shape [B]."""
        self.check_visible(v)
        check_tensor(h, "h", shape=[len(v), self.num_hidden], floating=True)
        interaction = ((v @ self.weight) * h).sum(-1)
        visible_term = (
            0.5 * ((v - self.visible_bias) ** 2).sum(-1) if self.gaussian else -(v @ self.visible_bias)
        )
        return visible_term - h @ self.hidden_bias - interaction

    def _free_energy(self, v: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        hidden_term = F.softplus(logits).sum(-1)
        if self.gaussian:
            return 0.5 * ((v - self.visible_bias) ** 2).sum(-1) - hidden_term
        return -(v @ self.visible_bias) - hidden_term

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -log sum_h exp(-E(v, h)) per example, shape [B], so that p(v) = exp(-F(v)) / Z."""
        self.check_visible(v)
        return self._free_energy(v, self.hidden_logits(v))

    # ------------------------------------------------------------------ Gibbs sampling
    def gibbs_chain(
        self,
        v: torch.Tensor,
        num_steps: int,
        *,
        record_every: int = 0,
        generator: torch.Generator | None = None,
        seed: int | None = None,
    ) -> GibbsResult:
        """Run ``num_steps`` block Gibbs sweeps (h ~ p(h|v), then v ~ p(v|h)) from the visible states ``v``.

        Returns the :class:`~bayesdl.inference.gibbs.GibbsResult`: ``blocks = [v, h]`` and, with
        ``record_every``, the trace of v; the per-sweep statistic is the free energy F(v).
        """
        self.check_visible(v)
        if generator is None and seed is not None:
            generator = torch.Generator(device=v.device).manual_seed(seed)
        return block_gibbs(
            v,
            [self.sample_hidden, self.sample_visible],
            num_steps,
            generator=generator,
            record_every=record_every,
            statistic=lambda blocks: self._free_energy(blocks[0], self.hidden_logits(blocks[0])),
        )

    def gibbs(
        self,
        v: torch.Tensor,
        k: int = 1,
        *,
        generator: torch.Generator | None = None,
        seed: int | None = None,
    ) -> torch.Tensor:
        """The visible state after ``k`` block Gibbs sweeps started at ``v``, shape [B, D].

        Example:
            >>> import torch
            >>> rbm = RBM(5, 3)
            >>> rbm.gibbs(torch.ones(2, 5), k=3, seed=0).shape
            torch.Size([2, 5])
        """
        with torch.no_grad():
            self.check_visible(v)
            if generator is None and seed is not None:
                generator = torch.Generator(device=v.device).manual_seed(seed)
            return block_gibbs(v, [self.sample_hidden, self.sample_visible], k, generator=generator).blocks[0]

    @sample_call_forms("num_steps")
    def sample(
        self,
        num_samples: int,
        *,
        num_steps: int = 1000,
        mean: bool = False,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` visible vectors by ``num_steps`` Gibbs sweeps from the base-rate distribution.

        The chains start from the independent-unit model with visible biases ``base_visible_bias``
        (set by :meth:`init_from_data`; uniform before that). With ``mean=True`` the last half-step
        returns E[v | h] instead of a draw (smoother images for display).

        Example:
            >>> RBM(5, 3).sample(4, num_steps=10, seed=0).shape
            torch.Size([4, 5])
        """
        n = check_positive_int(num_samples, "num_samples")
        generator = make_generator(
            seed, generator, self.weight.device, fresh=True
        )  # neither: fresh draws (was seed 0)
        with torch.no_grad():
            v = self._sample_base(n, generator)
            result = block_gibbs(v, [self.sample_hidden, self.sample_visible], num_steps, generator=generator)
            if mean and num_steps > 0:
                return self.visible_mean(result.blocks[1])
            return result.blocks[0]

    def _sample_base(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        base = self.base_visible_bias.unsqueeze(0).expand(n, -1)
        if self.gaussian:
            return base + torch.randn(base.shape, generator=generator, device=base.device, dtype=base.dtype)
        return bernoulli(torch.sigmoid(base), generator)

    # ------------------------------------------------------------------ training
    @torch.no_grad()
    def init_from_data(self, v: torch.Tensor, smoothing: float = 1.0) -> RBM:
        """Set the visible biases (and the AIS base-rate model) from the data, as Hinton (2010) advises.

        Bernoulli: b_i = log(p_i / (1 - p_i)) with p_i the smoothed frequency (n_i + s) / (N + 2s).
        Gaussian: b_i = the mean of dimension i. Returns ``self``.
        """
        self.check_visible(v)
        if self.gaussian:
            bias = v.mean(0)
        else:
            p = (v.sum(0) + smoothing) / (len(v) + 2.0 * smoothing)
            bias = torch.log(p) - torch.log1p(-p)
        self.visible_bias.copy_(bias)
        self.base_visible_bias.copy_(bias)
        return self

    def negative_sample(self, v: torch.Tensor) -> torch.Tensor:
        """The negative sample of one update, without touching the persistent chains.

        CD-k: k sweeps started at the data. PCD: k sweeps continued from the current chains (the
        chains themselves advance only inside :meth:`loss`).
        """
        self.check_visible(v)
        with torch.no_grad():
            weight = self._compute_weight()
            h = (
                self.chain_hidden
                if self.method == "pcd" and bool(self.chain_ready)
                else self.sample_hidden(v)
            )
            return self._down_chain(h, self.k, weight).to(self.weight.dtype)

    def contrastive_loss(self, v: torch.Tensor, v_neg: torch.Tensor) -> torch.Tensor:
        """mean F(v) - mean F(v_neg) plus the penalties, with v_neg treated as a constant.

        Its gradient with respect to (W, b, c) is minus the CD estimate of the log-likelihood gradient:
        -( <v h'>_data - <v h'>_neg ) for W, where h is replaced by p(h|v) in both averages.
        """
        self.check_visible(v)
        self.check_visible(v_neg, "v_neg")
        v_neg = v_neg.detach()
        with torch.no_grad():
            weight = self._compute_weight()
            stacked = torch.cat([v, v_neg]).to(weight.dtype)
            logits = self._hidden_input(stacked, weight)
        return self._contrastive(v, v_neg, stacked, logits, torch.sigmoid(logits))

    def _contrastive(
        self,
        v: torch.Tensor,
        v_neg: torch.Tensor,
        stacked: torch.Tensor,
        logits: torch.Tensor,
        probs: torch.Tensor,
    ) -> torch.Tensor:
        n_pos, n_neg = len(v), len(stacked) - len(v)
        with torch.no_grad():
            scale = self._row_weights(n_pos, n_neg, probs)
            # mean v - mean v_neg as two matrix-vector products (a column mean is several times slower)
            visible_gap = torch.addmv(torch.mv(v.t(), -scale[:n_pos]), v_neg.t().to(v.dtype), -scale[n_pos:])
            if self.gaussian:
                b = self.visible_bias
                constant = (
                    0.5 * ((v - b) ** 2).sum(-1).mean() - 0.5 * ((v_neg.to(v.dtype) - b) ** 2).sum(-1).mean()
                )
            else:  # -mean b'v + mean b'v_neg
                constant = -(visible_gap @ self.visible_bias)
            if (
                self.weight_decay > 0
            ):  # 0.5 lambda ||W||^2, its gradient lambda W added to the closed form below
                flat = self.weight.detach().reshape(-1)
                constant = constant + 0.5 * self.weight_decay * torch.dot(flat, flat)
        statistics = None  # none is needed when no backward pass can follow (evaluation)
        if torch.is_grad_enabled() and any(
            p.requires_grad for p in (self.weight, self.visible_bias, self.hidden_bias)
        ):
            with torch.no_grad():  # computed here, so the backward pass only scales them
                statistics = cd_statistics(stacked, probs, scale, visible_gap)
                if self.weight_decay > 0:
                    statistics[0].add_(self.weight.detach(), alpha=self.weight_decay)
        loss = FreeEnergyGap.apply(
            self.weight, self.visible_bias, self.hidden_bias, logits, probs, scale, constant, statistics
        )
        if self.sparsity_target is not None and self.sparsity_cost > 0:
            q = torch.sigmoid(self._hidden_input(v, self._compute_weight())).mean(0)
            p = torch.full_like(q, self.sparsity_target)
            loss = loss + self.sparsity_cost * F.binary_cross_entropy(q, p, reduction="sum")
        return loss

    def _row_weights(self, n_pos: int, n_neg: int, like: torch.Tensor) -> torch.Tensor:
        """[-1/n, ..., -1/n, 1/m, ..., 1/m] (n data rows, m negative rows), cached between updates."""
        cached = getattr(self, "_row_weights_cache", None)
        if cached is None or cached[0] != (n_pos, n_neg, like.device, like.dtype):
            scale = like.new_empty(n_pos + n_neg)
            scale[:n_pos] = -1.0 / n_pos
            scale[n_pos:] = 1.0 / n_neg
            cached = ((n_pos, n_neg, like.device, like.dtype), scale)
            self._row_weights_cache = cached
        return cached[1]

    def _down_chain(self, h: torch.Tensor, k: int, weight: torch.Tensor) -> torch.Tensor:
        """k - 1 sweeps h -> v -> h, then v ~ p(v|h), with a precomputed compute-dtype weight.

        Hidden states are drawn straight into the compute dtype (0 and 1 are exact in bfloat16);
        the returned visible draw is float32.
        """
        for _ in range(k - 1):
            v = self._draw_visible(self._visible_input(h, weight), None)
            h = bernoulli(
                torch.sigmoid(self._hidden_input(v, weight)),
                None,
                out=v.new_empty((len(v), self.num_hidden), dtype=weight.dtype),
            )
        return self._draw_visible(self._visible_input(h, weight), None)

    def _draw_visible(self, pre: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """v ~ p(v | h) from the visible inputs ``pre`` = b + W h (which a Bernoulli draw overwrites)."""
        if self.gaussian:
            return pre + torch.randn(pre.shape, generator=generator, device=pre.device, dtype=pre.dtype)
        return bernoulli(torch.sigmoid_(pre), generator)

    def loss(self, v: torch.Tensor) -> torch.Tensor:
        """The CD/PCD surrogate loss of one minibatch; its gradient is the contrastive-divergence gradient.

        The value is mean F(v) - mean F(v_neg) (+ penalties) and its backward pass returns the
        closed-form gradient -(<v p(h|v)'>_data - <v p(h|v)'>_neg) (one fused matrix product), which
        equals autograd's gradient of the same free-energy difference with v_neg held fixed.
        In training mode a PCD model advances its persistent chains; in evaluation mode both
        methods use CD-k from the data and change no state. The value (a free-energy difference)
        is not a likelihood: monitor :meth:`reconstruction_error`, :meth:`pseudo_log_likelihood`
        or :meth:`log_prob` instead.

        One update costs three matrix products for PCD-1 (chains' h -> v_neg; [v; v_neg] -> hidden
        inputs; the gradient) and four for CD-1, and each hidden probability is computed once and
        shared by the sampler, the loss value and the gradient, which is computed with the loss
        (when gradients are enabled) and returned by the backward pass. Binary draws compare
        uniforms from :func:`~bayesdl.ops.random_bits.uniform_bits` with the probabilities. A batch the trainer validated
        at the start of ``fit`` (the very tensor, see :meth:`check_visible`) is not checked again.
        """
        self.check_visible(v)
        persistent = self.method == "pcd" and self.training
        n = len(v)
        with torch.no_grad():
            weight = self._compute_weight().detach()  # cast to the compute dtype once per update
            if persistent and not bool(self.chain_ready):
                index = torch.arange(self.num_chains, device=v.device) % n
                self.chain_visible.copy_(v[index])
                self.chain_hidden.copy_(self.sample_hidden(self.chain_visible))
                self.chain_ready.fill_(True)
            # [v; v_neg] in the compute dtype, filled row block by row block (no concatenation)
            stacked = v.new_empty(
                (n + (self.num_chains if persistent else n), self.num_visible), dtype=weight.dtype
            )
            stacked[:n].copy_(v)
            if persistent:
                v_neg = self._down_chain(self.chain_hidden, self.k, weight)
                stacked[n:].copy_(v_neg)
                logits = self._hidden_input(stacked, weight)
                probs = torch.sigmoid(logits)
            else:
                logits_pos = self._hidden_input(stacked[:n], weight)
                probs_pos = torch.sigmoid(logits_pos)
                h = bernoulli(probs_pos, None, out=stacked.new_empty((n, self.num_hidden)))
                v_neg = self._down_chain(h, self.k, weight)
                stacked[n:].copy_(v_neg)
                logits_neg = self._hidden_input(stacked[n:], weight)
                logits = torch.cat([logits_pos, logits_neg])
                probs = torch.cat([probs_pos, torch.sigmoid(logits_neg)])
        loss = self._contrastive(v, v_neg, stacked, logits, probs)
        if persistent:
            with torch.no_grad():
                self.chain_visible.copy_(v_neg)
                bernoulli(probs[n:], None, out=self.chain_hidden)
        return loss

    # ------------------------------------------------------------------ monitors (not likelihoods)
    def reconstruction_error(self, v: torch.Tensor) -> torch.Tensor:
        """MONITOR ONLY: squared error ||v - E[v | h = p(h|v)]||^2 per example, shape [B].

        A one-step reconstruction says little about the likelihood (Hinton 2010, section 5);
        it is reported only to watch training.
        """
        self.check_visible(v)
        with torch.no_grad():
            return ((v - self.visible_mean(self.hidden_probs(v))) ** 2).sum(-1)

    def pseudo_log_likelihood(
        self, v: torch.Tensor, *, generator: torch.Generator | None = None, seed: int | None = None
    ) -> torch.Tensor:
        """MONITOR ONLY: a one-coordinate stochastic estimate of the pseudo-log-likelihood, shape [B].

        sum_i log p(v_i | v_-i) is estimated by D * log sigmoid(F(v~) - F(v)), where v~ is v with
        one uniformly chosen bit flipped (Besag 1975's pseudo-likelihood; Bernoulli units only).
        It is not log p(v).
        """
        self.check_visible(v)
        if self.gaussian:
            raise InputError("pseudo_log_likelihood is defined here for Bernoulli visible units only")
        if generator is None and seed is not None:
            generator = torch.Generator(device=v.device).manual_seed(seed)
        with torch.no_grad():
            idx = torch.randint(self.num_visible, (len(v),), generator=generator, device=v.device)
            flipped = v.clone()
            rows = torch.arange(len(v), device=v.device)
            flipped[rows, idx] = 1.0 - flipped[rows, idx]
            diff = self._free_energy(flipped, self.hidden_logits(flipped)) - self._free_energy(
                v, self.hidden_logits(v)
            )
            return self.num_visible * F.logsigmoid(diff)

    # ------------------------------------------------------------------ partition function
    def _parameter_key(self) -> tuple:
        return tuple(
            (p.data_ptr(), p._version, str(p.device), p.dtype)
            for p in (self.weight, self.visible_bias, self.hidden_bias)
        )

    @property
    def log_z_estimate(self) -> LogPartitionEstimate | None:
        """The cached log Z estimate if it was computed for the current parameters, else None."""
        if self._log_z_cache is not None and self._log_z_cache[0] == self._parameter_key():
            return self._log_z_cache[1]
        return None

    def log_partition(
        self,
        method: str = "auto",
        *,
        num_chains: int = 100,
        num_betas: int = 10000,
        layer: str = "auto",
        base_data: torch.Tensor | None = None,
        schedule: str = "salakhutdinov-murray",
        seed: int | None = 0,
        generator: torch.Generator | None = None,
        progress: Progress = False,
    ) -> LogPartitionEstimate:
        """log Z, exactly by enumeration or by annealed importance sampling; the result is cached.

        Arguments:
            method: "exact" (enumerate the states of one layer, at most 20 units), "ais", or "auto"
                (exact when the smaller enumerable layer has <= 20 units, otherwise AIS).
            num_chains: AIS runs.
            num_betas: AIS inverse temperatures (including 0 and 1).
            layer: for "exact": "visible", "hidden" or "auto" (the smaller one; Gaussian visible
                units can only be summed out, so the hidden layer is enumerated).
            base_data: data whose base rates define the AIS base model (default: the
                ``base_visible_bias`` set by :meth:`init_from_data`).
            schedule: the spacing of the inverse temperatures (see ``ais_betas``).
            seed: seeds AIS when no ``generator`` is given.
            generator: the AIS random source.
            progress: count the AIS temperatures (False by default; True or a label for a bar, or a callable
                ``(done, total)``; see :mod:`bayesdl.progress`). Exact enumeration is not counted.

        Returns:
            a :class:`~bayesdl.inference.ais.LogPartitionEstimate` (log Z, its standard error, and
            the log(Z_hat -/+ 3 sigma) bounds for AIS).

        Example:
            >>> rbm = RBM(4, 3, seed=1)
            >>> a = rbm.log_partition("exact", layer="visible").log_z
            >>> b = rbm.log_partition("exact", layer="hidden").log_z
            >>> abs(a - b) < 1e-9
            True
        """
        check_choice(method, "method", ("auto", "exact", "ais"))
        check_choice(layer, "layer", ("auto", "visible", "hidden"))
        smallest = self.num_hidden if self.gaussian else min(self.num_visible, self.num_hidden)
        if method == "auto":
            method = "exact" if smallest <= MAX_ENUMERATION_UNITS else "ais"
        with torch.no_grad():
            if method == "exact":
                estimate = LogPartitionEstimate.exact(self._exact_log_partition(layer))
            else:
                if base_data is not None:
                    self.check_visible(base_data, "base_data")
                    base = self._base_bias_from(base_data)
                else:
                    base = self.base_visible_bias
                path = RBMAnnealingPath(self, base)
                estimate = annealed_importance_sampling(
                    path,
                    num_chains,
                    num_betas,
                    schedule=schedule,
                    seed=seed,
                    generator=generator,
                    progress=progress,
                )
        self._log_z_cache = (self._parameter_key(), estimate)
        return estimate

    def _base_bias_from(self, v: torch.Tensor) -> torch.Tensor:
        if self.gaussian:
            return v.mean(0)
        p = (v.sum(0) + 1.0) / (len(v) + 2.0)
        return torch.log(p) - torch.log1p(-p)

    def _exact_log_partition(self, layer: str) -> float:
        if layer == "auto":
            layer = "hidden" if self.gaussian or self.num_hidden <= self.num_visible else "visible"
        if layer == "visible" and self.gaussian:
            raise InputError("Gaussian visible units cannot be enumerated; use layer='hidden'")
        units = self.num_visible if layer == "visible" else self.num_hidden
        if units > MAX_ENUMERATION_UNITS:
            raise InputError(
                f"exact log Z enumerates 2^{units} states of the {layer} layer; at most 2^{MAX_ENUMERATION_UNITS} "
                "are allowed: use method='ais'"
            )
        W = self.weight.double()
        b = self.visible_bias.double()
        c = self.hidden_bias.double()
        chunk = 2**16
        parts = []
        for start in range(0, 2**units, chunk):
            states = binary_states(
                units, start, min(2**units, start + chunk), device=W.device, dtype=torch.float64
            )
            if layer == "visible":
                parts.append(states @ b + F.softplus(states @ W + c).sum(-1))
            elif self.gaussian:
                wh = states @ W.t()
                parts.append(states @ c + wh @ b + 0.5 * (wh**2).sum(-1))
            else:
                parts.append(states @ c + F.softplus(states @ W.t() + b).sum(-1))
        log_z = float(torch.logsumexp(torch.cat(parts), 0))
        if layer == "hidden" and self.gaussian:
            log_z += 0.5 * self.num_visible * _LOG_2PI
        return log_z

    def log_prob(self, v: torch.Tensor) -> torch.Tensor:
        """log p(v) = -F(v) - log Z in nats per example, shape [B].

        log Z comes from the cache filled by :meth:`log_partition` for the current parameters. If
        the parameters changed since (training, loading) the cache is invalid: for small models
        (a layer of <= 20 units) log Z is recomputed exactly; otherwise a
        :class:`StaleLogPartitionError` asks for ``log_partition(method="ais")``. With an AIS
        estimate, log p(v) is an estimate too (AIS tends to underestimate log Z, which
        overestimates log p).
        """
        self.check_visible(v)
        estimate = self.log_z_estimate
        if estimate is None:
            smallest = self.num_hidden if self.gaussian else min(self.num_visible, self.num_hidden)
            if smallest > MAX_ENUMERATION_UNITS:
                raise StaleLogPartitionError(
                    "no log Z estimate for the current parameters (they changed, or none was computed): "
                    "call rbm.log_partition(method='ais') first"
                )
            estimate = self.log_partition("exact")
        with torch.no_grad():
            return -self._free_energy(v, self.hidden_logits(v)) - estimate.log_z
