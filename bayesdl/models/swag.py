"""SWA and SWAG: a Gaussian over network weights from the moments of SGD iterates, and its ensemble MultiSWAG."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn
from torch.func import functional_call

from ..errors import InputError
from ..io import serializable
from ..randomness import make_generator
from ..results import CategoricalDraws, FunctionDraws, GaussianDraws
from ..validation import check_positive_int
from .supervised import evaluation_mode, stack_draws

Covariance = Literal["diag", "lowrank"]


@serializable
class SWAG(nn.Module):
    """theta ~ N(theta_SWA, Sigma) with Sigma = 1/2 diag(mean(theta^2) - theta_SWA^2) + 1/(2(K-1)) D D^T.

    theta_SWA is the average of SGD iterates (SWA), the diagonal is their variance, and D [P, K] holds the last K
    deviations theta_i - theta_bar_i (Maddox et al. 2019, eq. 1-3). A draw is

    theta = theta_SWA + 2^{-1/2} diag(Sigma_diag)^{1/2} z_1 + (2 (K - 1))^{-1/2} D z_2,  z_1 ~ N(0, I_P), z_2 ~ N(0, I_K);

    with ``covariance="diag"`` only the first term is used (and its weight is 1 instead of 1/2). Networks with batch
    norm get their running statistics recomputed for every draw from ``bn_data`` (as Maddox et al. do), since
    statistics of the SGD iterates do not match the sampled weights.

    Arguments:
        model: the trained supervised model (a ``PlainNet``) whose parameters the collector tracked.
        collector: the :class:`~bayesdl.inference.swag_collector.SWAGCollector` filled during training (None only
            when :func:`bayesdl.load` rebuilds a saved SWAG and then restores its moments).
        covariance: "lowrank" (SWAG) or "diag" (SWAG-diagonal).
        bn_data: an iterable of input batches (or a tensor of inputs) for refreshing batch-norm statistics.

    ``bayesdl.save`` stores the model's weights and the moments (and ``bn_data`` when it is a tensor or a list of
    tensors); ``bayesdl.load`` gives a SWAG whose draws for a given generator are bit-identical.

    References:
        Maddox, Garipov, Izmailov, Vetrov & Wilson (2019), A Simple Baseline for Bayesian Uncertainty in Deep Learning,
        arXiv:1902.02476; Izmailov et al. (2018), arXiv:1803.05407.
    """

    def __init__(
        self, model: nn.Module, collector: Any = None, covariance: Covariance = "lowrank", bn_data: Any = None
    ) -> None:
        super().__init__()
        if covariance not in ("diag", "lowrank"):
            raise InputError(f"covariance must be 'diag' or 'lowrank', got {covariance!r}")
        # the moments and bn_data are saved as fitted state, not as constructor arguments
        config = self.__dict__.get("_bayesdl_config")
        if config is not None:
            config.update(collector=None, bn_data=None)
        self.model = model
        self.covariance = covariance
        self.has_batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
        self.bn_data = bn_data
        if collector is None:  # an empty shell for bayesdl.load, which then calls load_fitted_state
            self.names = [n for n, _ in model.named_parameters()]
            self.mean = self.variance = self.deviations = None
            return
        if collector.num_snapshots < 2:
            raise InputError(
                f"SWAG needs at least 2 snapshots of the weights, the collector has {collector.num_snapshots}: "
                "collect for longer or more often"
            )
        if covariance == "lowrank" and len(collector.deviations) < 2:
            raise InputError("a low-rank SWAG covariance needs at least 2 deviation columns")
        self.names = list(collector.names)
        self.mean = collector.mean.clone()
        self.variance = (collector.square_mean - collector.mean**2).clamp_min(0.0)
        self.deviations = torch.stack(collector.deviations, dim=1)  # [P, K]
        if self.has_batch_norm and bn_data is None:
            raise InputError(
                "the network has batch norm: pass bn_data (training inputs) to refresh its statistics per draw"
            )

    def fitted_state(self) -> dict[str, torch.Tensor]:
        """The moments (and tensor ``bn_data``) that :func:`bayesdl.save` stores beside the model's weights."""
        if self.mean is None:
            raise InputError("this SWAG has no moments to save")
        state = {"mean": self.mean, "variance": self.variance, "deviations": self.deviations}
        if self.bn_data is not None:
            batches = [self.bn_data] if isinstance(self.bn_data, torch.Tensor) else self.bn_data
            batches = (
                [b[0] if isinstance(b, (tuple, list)) else b for b in batches]
                if isinstance(batches, (list, tuple))
                else [None]
            )
            if not all(isinstance(b, torch.Tensor) for b in batches):
                raise InputError(
                    "bayesdl.save stores bn_data only as a tensor or a list of tensors (or of (x, y) batches)"
                )
            state.update({f"bn_data_{i}": b for i, b in enumerate(batches)})
        return state

    def load_fitted_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore the moments written by :meth:`fitted_state`, checking their names, shapes and dtypes."""
        p = sum(q.numel() for q in self.model.parameters())
        mean, variance, deviations = (state.get(k) for k in ("mean", "variance", "deviations"))
        for name, value in (("mean", mean), ("variance", variance), ("deviations", deviations)):
            if not isinstance(value, torch.Tensor) or value.dtype != torch.float64 or value.shape[0] != p:
                raise InputError(f"{name!r} must be a float64 tensor with {p} rows")
        if mean.dim() != 1 or variance.shape != mean.shape or deviations.dim() != 2:
            raise InputError(f"mean and variance must be [{p}] and deviations [{p}, K]")
        if not all(bool(torch.isfinite(t).all()) for t in (mean, variance, deviations)) or bool(
            (variance < 0).any()
        ):
            raise InputError("the moments hold NaN, infinite or negative-variance values")
        if self.covariance == "lowrank" and deviations.shape[1] < 2:
            raise InputError("a low-rank SWAG covariance needs at least 2 deviation columns")
        batches = [state[f"bn_data_{i}"] for i in range(len(state)) if f"bn_data_{i}" in state]
        if self.has_batch_norm and not batches:
            raise InputError("the network has batch norm but the file stores no bn_data")
        self.mean, self.variance, self.deviations = mean, variance, deviations
        self.bn_data = batches or None

    def sample_parameters(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws [S, P] of the flattened parameters."""
        check_positive_int(num_samples, "num_samples")
        if self.mean is None:
            raise InputError("this SWAG has no moments: build it from a SWAGCollector, or with bayesdl.load")
        p, k = self.deviations.shape
        dev = self.mean.device
        z1 = torch.randn(
            num_samples,
            p,
            generator=generator,
            dtype=torch.float64,
            device=generator.device if generator else dev,
        ).to(dev)
        if self.covariance == "diag":
            return self.mean + z1 * self.variance.sqrt()
        z2 = torch.randn(
            num_samples,
            k,
            generator=generator,
            dtype=torch.float64,
            device=generator.device if generator else dev,
        ).to(dev)
        return self.mean + z1 * (self.variance / 2).sqrt() + (z2 @ self.deviations.T) / (2 * (k - 1)) ** 0.5

    def _as_dict(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        params = dict(self.model.named_parameters())
        out, start = {}, 0
        for name in self.names:
            ref = params[name]
            out[name] = flat[start : start + ref.numel()].reshape(ref.shape).to(ref.dtype)
            start += ref.numel()
        return out

    def swa_parameters(self) -> dict[str, torch.Tensor]:
        """The averaged weights theta_SWA as a ``{name: tensor}`` dict of the model's parameters."""
        return self._as_dict(self.mean)

    def _refresh_batch_norm(self, params: dict[str, torch.Tensor]) -> None:
        batches = [self.bn_data] if isinstance(self.bn_data, torch.Tensor) else self.bn_data
        norms = [m for m in self.model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta = {m: m.momentum for m in norms}
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the refresh pass
        previous = {m: m.training for m in self.model.modules()}
        self.model.train()
        try:
            with torch.no_grad():
                for batch in batches:
                    x = batch[0] if isinstance(batch, (tuple, list)) else batch
                    functional_call(self.model, params, (x.to(self.mean.device),))
        finally:
            for m, mode in previous.items():
                m.training = mode
            for m in norms:
                m.momentum = momenta[m]

    def _outputs(self, x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.has_batch_norm:
            self._refresh_batch_norm(params)
        with evaluation_mode(self.model):
            return functional_call(self.model, params, (x.to(self.mean.device),))

    def predictive_samples(
        self, x: torch.Tensor, num_samples: int, *, generator: torch.Generator | None = None
    ) -> GaussianDraws | CategoricalDraws:
        """Predictive draws of ``num_samples`` sampled networks."""
        flat = self.sample_parameters(num_samples, generator=generator)
        with torch.no_grad():
            outputs = [self._outputs(x, self._as_dict(theta)) for theta in flat]
        return stack_draws(self.model.likelihood, outputs)

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """One chain of ``num_samples`` sampled networks with their flat weights ``theta`` [1, S, P].

        Arguments:
            x: inputs [B, ...].
            num_samples: S.
            seed, generator: fix the draws (neither draws from the global generator).
        """
        check_positive_int(num_samples, "num_samples")
        g = make_generator(seed, generator, self.mean.device)
        flat = self.sample_parameters(num_samples, generator=g)
        with torch.no_grad():
            draws = stack_draws(
                self.model.likelihood, [self._outputs(x, self._as_dict(theta)) for theta in flat]
            )
        return FunctionDraws.from_draws(
            draws,
            "swag",
            parameters={"theta": flat},
            bayesian=True,
            note=f"one network from the SWAG Gaussian ({self.covariance} covariance) per draw",
        )


@serializable
class MultiSWAG(nn.Module):
    """An equal-weight mixture of independently trained SWAG posteriors (Wilson & Izmailov 2020).

    ``predictive_samples(x, S)`` takes about S / M draws from each of the M members.

    Arguments:
        members: SWAG models of the same architecture.

    References:
        Wilson & Izmailov (2020), Bayesian Deep Learning and a Probabilistic Perspective of Generalization,
        arXiv:2002.08791.
    """

    def __init__(self, members: Sequence[SWAG]) -> None:
        super().__init__()
        if len(members) < 1 or not all(isinstance(m, SWAG) for m in members):
            raise InputError("MultiSWAG needs a non-empty list of SWAG models")
        self.members = nn.ModuleList(members)

    def predictive_samples(
        self, x: torch.Tensor, num_samples: int, *, generator: torch.Generator | None = None
    ) -> GaussianDraws | CategoricalDraws:
        check_positive_int(num_samples, "num_samples")
        m = len(self.members)
        counts = [num_samples // m + (1 if i < num_samples % m else 0) for i in range(m)]
        parts = [
            member.predictive_samples(x, c, generator=generator)
            for member, c in zip(self.members, counts)
            if c > 0
        ]
        if isinstance(parts[0], CategoricalDraws):
            return CategoricalDraws(torch.cat([p.probs for p in parts]))
        return GaussianDraws(
            torch.cat([p.means for p in parts]), torch.cat([p.noise_variances for p in parts])
        )

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """One chain per member, each of ``num_samples`` draws (so R-hat shows whether the members' modes agree).

        Arguments:
            x: inputs [B, ...].
            num_samples: S, draws per member.
            seed, generator: fix the draws (neither draws from the global generator).
        """
        check_positive_int(num_samples, "num_samples")
        g = make_generator(seed, generator, self.members[0].mean.device)
        parts = [member.predictive_draws(x, num_samples, generator=g) for member in self.members]

        def cat(name: str) -> torch.Tensor | None:
            values = [getattr(p, name) for p in parts]
            return None if values[0] is None else torch.cat(values)

        return FunctionDraws(
            "multiswag",
            means=cat("means"),
            noise_variances=cat("noise_variances"),
            probs=cat("probs"),
            parameters={"theta": torch.cat([p.parameters["theta"] for p in parts])},
            bayesian=True,
            note="one chain per SWAG member (an equal-weight mixture of SWAG Gaussians)",
        )
