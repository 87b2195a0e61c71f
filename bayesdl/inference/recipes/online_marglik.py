"""Online tuning of a network's prior precision (and regression noise) by the Laplace evidence during training.

Immer, Bauer, Fortuin, Rätsch & Khan (2021), Scalable Marginal Likelihood Estimation for Model Selection in Deep
Learning, ICML, arXiv:2104.04975 (Algorithm 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ...contracts import EvidenceApproximation
from ...errors import InputError
from ...validation import check_positive_float, check_positive_int
from ..trainer import Callback, Trainer


class OnlineMarglik(Callback):
    """Tune the prior precision delta of the weights (and, for regression, the noise sd sigma) while the network
    trains, by gradient ascent on the Laplace estimate of the marginal likelihood (Immer et al. 2021, Algorithm 1).

    The trainer minimises the MAP objective per example,
    (1/N) sum_n -log p(y_n | x_n, theta, sigma) + delta / (2N) ||theta_c||^2,
    where theta_c are the weights the approximation covers: the prior term enters as the optimiser's (coupled)
    weight decay delta / N on those weights, in a parameter group of their own (the other parameters keep the
    trainer's ``optimizer_kwargs``). After epoch e, whenever e > ``burn_in`` and (e - ``burn_in``) is a multiple
    of ``frequency`` F, a fresh approximation is fitted at the current weights theta_t (curvature H, a GGN or
    empirical Fisher over the ``data``) and ``steps`` Adam steps are taken on u = log delta (and v = log sigma) to
    maximise the Laplace evidence

        log q(D | delta, sigma) = log p(D | theta_t, sigma) - delta/2 ||theta_t||^2 + P/2 log delta
                                  - 1/2 log det(H_sigma + delta I)

    (P covered weights); the new delta then sets the weight decay, so the training objective and the evidence
    use one prior N(0, delta^{-1} I), and the new sigma is written into the model's fixed noise head. One Adam
    optimiser runs over the whole fit, as in the paper.

    At a fixed point theta_t is the MAP for (delta, sigma), and there the partial derivatives of log q in
    (delta, sigma) equal the total derivatives of the evidence (the MAP is stationary in theta), so the fixed
    point is a stationary point of the Laplace evidence, which for a linear-Gaussian model is the exact evidence.

    Arguments:
        approximation: ``model -> EvidenceApproximation``, building a fresh approximation of the model at its
            current weights, e.g. ``functools.partial(Laplace, subset="all", hessian="kron")``
            (:class:`~bayesdl.models.laplace.Laplace`; passed in so that inference does not import the models).
        data: the training data the approximation is fitted on: an (x, y) pair of tensors or batches of them.
        frequency: F, epochs between updates (>= 1).
        burn_in: epochs trained with the initial delta before the first update (>= 0).
        steps: K, hyperparameter gradient steps per update (>= 1).
        lr: the Adam learning rate on log delta and log sigma.
        prior_precision: the initial delta > 0.
        tune_noise: for regression, tune sigma too (the model needs a fixed noise head, ``learn_noise=False``);
            ignored for classification.

    Attributes:
        prior_precision: the current delta. ``noise_std``: the current sigma (None for classification).
        updates: one dict per update: epoch, prior_precision, noise_std and log_evidence (nats, the Laplace
            estimate after the steps; an approximation, not a bound). Every trainer history record also gets
            the ``prior_precision`` in force after its epoch.

    The model's ``loss`` must be the mean negative log-likelihood per example (a
    :class:`~bayesdl.models.PlainNet`'s is), and the optimiser must apply coupled weight decay ("adam", "sgd" or
    "rmsprop"; AdamW's decoupled decay is not the gradient of a prior). Checkpoint resume (``resume_from``) is not
    supported: the hyperparameters are not in the checkpoint, and the optimiser's extra parameter group does not
    match the fresh optimiser a resume loads it into.

    Example:
        >>> import functools, torch
        >>> from bayesdl.inference import Trainer
        >>> from bayesdl.models import MLP, PlainNet
        >>> from bayesdl.models.laplace import Laplace
        >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
        >>> model = PlainNet(MLP(2, [8], 2))
        >>> tuner = OnlineMarglik(functools.partial(Laplace, subset="all", hessian="kron"), (x, y), frequency=2, burn_in=2)
        >>> _ = Trainer(model, lr=1e-2, epochs=6, batch_size=32, progress=False, seed=0, callbacks=[tuner]).fit((x, y))
        >>> [u["epoch"] for u in tuner.updates], tuner.prior_precision > 0
        ([4, 6], True)

    References:
        Immer, Bauer, Fortuin, Rätsch & Khan (2021), Scalable Marginal Likelihood Estimation for Model Selection in
        Deep Learning, ICML, arXiv:2104.04975; MacKay (1992), Bayesian Interpolation, Neural Computation 4(3).
    """

    def __init__(
        self,
        approximation: Callable[[Any], EvidenceApproximation],
        data: Any,
        frequency: int = 1,
        burn_in: int = 0,
        steps: int = 10,
        lr: float = 0.1,
        prior_precision: float = 1.0,
        tune_noise: bool = True,
    ) -> None:
        if not callable(approximation):
            raise InputError(
                f"approximation must be a callable model -> EvidenceApproximation (e.g. a Laplace class), "
                f"got {type(approximation).__name__}"
            )
        if data is None:
            raise InputError("data must be the training data the approximation is fitted on, got None")
        self.approximation = approximation
        self.data = data
        self.frequency = check_positive_int(frequency, "frequency")
        self.burn_in = check_positive_int(burn_in, "burn_in", minimum=0)
        self.steps = check_positive_int(steps, "steps")
        self.lr = check_positive_float(lr, "lr")
        self.initial_prior_precision = check_positive_float(prior_precision, "prior_precision")
        if not isinstance(tune_noise, bool):
            raise InputError(f"tune_noise must be True or False, got {tune_noise!r}")
        self.tune_noise = tune_noise
        self.prior_precision = self.initial_prior_precision
        self.noise_std: float | None = None
        self.updates: list[dict[str, float | None]] = []

    # ------------------------------------------------------------------------------------------------ set-up
    def _build(self, model: Any) -> EvidenceApproximation:
        approx = self.approximation(model)
        if not isinstance(approx, EvidenceApproximation):
            raise InputError(
                f"approximation(model) must return an EvidenceApproximation (fit, log_evidence, "
                f"covered_parameters), got {type(approx).__name__}"
            )
        return approx

    def _noise_head(self, model: Any) -> torch.Tensor:
        head = getattr(model, "likelihood", None)
        log_sd = getattr(head, "log_noise_std", None)
        if not isinstance(log_sd, torch.Tensor) or log_sd.numel() != 1:
            raise InputError(
                f"tune_noise=True needs a model with a homoscedastic noise head (likelihood.log_noise_std); "
                f"{type(model).__name__} has none: pass tune_noise=False"
            )
        if log_sd.requires_grad:
            raise InputError(
                "tune_noise=True needs a fixed noise head (PlainNet(..., learn_noise=False)): a learned "
                "noise would be moved by the training loss as well as by the evidence"
            )
        return log_sd

    def on_fit_start(self, trainer: Trainer) -> None:
        optimizer = trainer.optimizer
        if isinstance(optimizer, torch.optim.AdamW) or not all(
            "weight_decay" in g for g in optimizer.param_groups
        ):
            raise InputError(
                f"OnlineMarglik sets the prior as coupled weight decay; optimizer {type(optimizer).__name__} "
                "does not apply one: use 'adam', 'sgd' or 'rmsprop'"
            )
        approx = self._build(trainer.model)
        self._kind = approx.kind
        covered = approx.covered_parameters()
        ids = {id(p) for p in covered}
        for group in optimizer.param_groups:
            group["params"] = [p for p in group["params"] if id(p) not in ids]
        optimizer.param_groups[:] = [g for g in optimizer.param_groups if g["params"]]
        optimizer.add_param_group({"params": covered, "weight_decay": 0.0})
        self._prior_group = optimizer.param_groups[-1]
        self._num_data = trainer.num_data
        device = covered[0].device
        self.prior_precision = self.initial_prior_precision
        self._log_delta = torch.tensor(
            math.log(self.prior_precision), dtype=torch.float64, device=device, requires_grad=True
        )
        hyper = [self._log_delta]
        self._log_sigma: torch.Tensor | None = None
        self._head: torch.Tensor | None = None
        self.noise_std = None
        if self._kind == "regression" and self.tune_noise:
            self._head = self._noise_head(trainer.model)
            self.noise_std = float(self._head.exp())
            self._log_sigma = torch.tensor(
                math.log(self.noise_std), dtype=torch.float64, device=device, requires_grad=True
            )
            hyper.append(self._log_sigma)
        self._hyper_optimizer = torch.optim.Adam(hyper, lr=self.lr)
        self.updates = []
        self._apply()

    def _apply(self) -> None:
        """Write the current delta into the weight decay (delta / N for a mean loss) and sigma into the noise head."""
        self._prior_group["weight_decay"] = self.prior_precision / self._num_data
        if self._head is not None and self.noise_std is not None:
            with torch.no_grad():
                self._head.fill_(math.log(self.noise_std))

    # ---------------------------------------------------------------------------------------------- updates
    def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:
        if epoch > self.burn_in and (epoch - self.burn_in) % self.frequency == 0:
            self.update(trainer.model, epoch)
        record["prior_precision"] = self.prior_precision
        if self.noise_std is not None:
            record["noise_std"] = self.noise_std

    def update(self, model: Any, epoch: int = 0) -> float:
        """Fit the approximation at the current weights and take the hyperparameter steps; returns the log evidence."""
        approx = self._build(model)
        approx.fit(self.data)
        for _ in range(self.steps):
            self._hyper_optimizer.zero_grad()
            sigma = self._log_sigma.exp() if self._log_sigma is not None else None
            loss = -approx.log_evidence(self._log_delta.exp(), sigma)
            if not bool(torch.isfinite(loss)):
                raise InputError(
                    f"the log evidence is {float(-loss)} at epoch {epoch}: check the network and the data"
                )
            loss.backward()
            self._hyper_optimizer.step()
        with torch.no_grad():
            sigma = self._log_sigma.exp() if self._log_sigma is not None else None
            value = float(approx.log_evidence(self._log_delta.exp(), sigma))
        self.prior_precision = float(self._log_delta.detach().exp())
        if self._log_sigma is not None:
            self.noise_std = float(self._log_sigma.detach().exp())
        self._apply()
        self.updates.append(
            {
                "epoch": epoch,
                "prior_precision": self.prior_precision,
                "noise_std": self.noise_std,
                "log_evidence": value,
            }
        )
        return value
