"""The training loop: minibatch gradient descent on any bayesdl objective.

The :class:`Trainer` takes any :class:`~bayesdl.inference.objectives.Objective` (a Pyro model/guide
pair under an ELBO, or a module with its own ``loss``) and handles the optimiser and schedule,
gradient clipping, device placement, a progress bar, validation with early stopping and restoring
the best parameters, callbacks, a JSON-saveable history, seeding, and checkpoints that resume
exactly: a run stopped after epoch k and resumed ends with bit-identical parameters to an
uninterrupted run (same machine, same data).

A fit leaves no trace outside the model and the files it was asked to write: it runs on its own
copies of the global random streams (:func:`~bayesdl.inference.training.seeding.isolated_rng`) and
with Pyro's module-local parameters switched on for its duration only.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from ...contracts import ChecksData, check_data_arity, is_mixed_precision_safe
from ...data.loader import Batch, BatchLoader, DeviceBatches, as_batches, as_tuple
from ...errors import CheckpointError, InputError, TrainingDivergedError
from ...io import load_state, save_state
from ...nn.pyro_params import module_local_params
from ...validation import check_positive_float, check_positive_int, checked_data
from ..distributed import DistributedInfo, all_reduce_sum, any_process, init_distributed
from ..objectives import Objective, as_objective
from .callbacks import Callback
from .devices import resolve_device
from .history import History
from .optimizers import OPTIMIZERS, make_optimizer, make_scheduler
from .seeding import check_seed, fresh_seed, global_rng_state, isolated_rng, set_global_rng_state

Batches = BatchLoader | DeviceBatches

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class _ObjectiveStep(torch.nn.Module):
    """Holds an objective's modules so that DistributedDataParallel can wrap one forward = one loss."""

    def __init__(self, objective: Objective, num_data: int) -> None:
        super().__init__()
        self.held = torch.nn.ModuleDict(objective.modules)
        self.objective = objective
        self.num_data = num_data

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.objective.loss(batch, self.num_data)


def _check_clip(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return check_positive_float(value, "clip_grad_norm")
    except InputError as err:
        raise InputError(
            f"{err} (or None); a negative bound would turn descent into ascent, and 0 would freeze training"
        ) from None


class Trainer:
    """Fit any bayesdl objective with minibatch gradient descent.

    Arguments:
        model: a module with ``loss(...)``, a Pyro model (then give ``guide`` and/or ``elbo``), a
            ``PyroModule`` with ``model``/``guide`` methods, or an :class:`Objective`.
        guide: the Pyro guide, for Pyro models.
        elbo: "trace", "meanfield", "iwae" (RenyiELBO alpha=0) or a ``pyro.infer.ELBO``.
        num_particles: ELBO particles per example (a positive integer).
        optimizer: "adam", "adamw", "sgd", "rmsprop", or a callable ``params -> Optimizer``.
        lr: the learning rate, a positive finite number.
        optimizer_kwargs: extra optimizer arguments (weight decay, momentum, ...). Adam and AdamW
            run fused (``fused=True``, one kernel over all parameters) when every parameter is a floating-point
            tensor on a CPU or CUDA device, unless ``fused`` or ``foreach`` is given here.
        scheduler: None, "cosine" (annealed over the epochs), or ``optimizer -> LRScheduler``;
            stepped once per epoch.
        epochs: the number of passes over the data.
        batch_size: the minibatch size (for tensors, arrays and Datasets; a DataLoader keeps its own).
        clip_grad_norm: clip the global gradient norm to this positive value, if given.
        device: "auto" (CUDA when present), "cpu", "cuda:1", ... A CUDA device without CUDA is an InputError.
        progress: show a progress bar with the running loss; a string shows it with that label (for example
            the model's name when several are trained one after another).
        seed: an integer in [0, 2**63 - 1] that decides all the randomness of a fit (batch order, noise
            drawn by the model, Pyro's draws), or None (the default) for fresh randomness: the fit then
            takes its seed from one draw of torch's global generator, as a ``DataLoader`` does, so
            ``torch.manual_seed(k)`` earlier in the program makes it reproducible and two fits in a row
            differ. Either way the fit runs on its own copies of the global generators (Python, NumPy,
            torch, Pyro) and leaves them as it found them (with ``seed=None``, torch's advanced by that one
            draw). The seed used is ``trainer.seed_used`` after ``fit``.
        early_stopping_patience: stop after this many (>= 1) epochs without a better validation value.
        restore_best: on early stopping (or at the end), restore the parameters of the best epoch.
        val_metric: ``model -> float`` (lower is better) evaluated each epoch; by default the
            objective's mean loss on ``val_data``.
        callbacks: :class:`Callback` objects.
        checkpoint_path: write a checkpoint here every ``checkpoint_every`` epochs (atomically).
        binarize: "dynamic" to redraw binary data for every batch.
        strategy: None for one process, or "ddp" for data-parallel training on ``torch.distributed``
            (launch with ``torchrun``; with ``seed=None`` rank 0's fresh seed is shared). ``batch_size`` is then the global batch; each process
            takes an interleaved shard of every global batch of in-memory data (shard a DataLoader yourself
            with a ``DistributedSampler``), gradients are averaged by ``DistributedDataParallel``, and only
            rank 0 writes checkpoints and progress bars.
        backend: "auto" (NCCL on GPUs, gloo on CPUs), "nccl" or "gloo", for ``strategy="ddp"``.
        precision: "fp32", "bf16" or "fp16" (CUDA only, with gradient scaling). Mixed precision runs the
            loss under ``torch.autocast`` and is allowed only for models whose class sets
            ``mixed_precision_safe = True``; the loss itself is accumulated in float32.

    Numerical faults stop the fit: before every optimizer step the loss and the global gradient norm (the
    one clipping computes, else one fused reduction over all gradients) are checked, and a NaN or infinite
    value raises :class:`~bayesdl.errors.TrainingDivergedError` naming the epoch and batch, with the step
    not taken: parameters, optimizer state and checkpoints stay at the last good step. A NaN validation
    loss or metric raises the same error. (Under ``precision="fp16"`` an infinite gradient is the
    gradient scaler's signal to skip the step and lower its scale, so only the loss is checked.)

    Resume (``fit(..., resume_from=path)``) continues a run exactly: with the same data, model and
    trainer arguments, the parameters after the last epoch are bit-identical to an uninterrupted run's.
    The checkpoint fixes the optimizer and its state: a checkpoint of another optimizer class, or trained
    with another ``lr``, raises :class:`~bayesdl.errors.CheckpointError` (to go on with a new learning
    rate, start a new fit from the trained model instead of resuming).

    Randomness under ``strategy="ddp"``: every process is seeded with the same ``seed``, so draws of
    global quantities (weights, hyperparameters, dropout masks of the same shape) agree with a
    single-process run; noise drawn per example in a shard repeats across shards at the same
    position. Gradients stay unbiased; a deterministic objective, or one whose per-example noise
    comes with the data, gives the same parameters as one process with the same global batch.

    Example:
        >>> class Gauss(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__(); self.mu = torch.nn.Parameter(torch.zeros(1))
        ...     def loss(self, x):
        ...         return 0.5 * ((x - self.mu) ** 2).mean()
        >>> model = Gauss()
        >>> history = Trainer(model, lr=0.1, epochs=60, progress=False, seed=0).fit(torch.full((50, 1), 2.0))
        >>> round(model.mu.item(), 1)
        2.0
    """

    def __init__(
        self,
        model: Any,
        guide: Any = None,
        elbo: Any = None,
        num_particles: int = 1,
        optimizer: str | Callable[..., torch.optim.Optimizer] = "adam",
        lr: float = 1e-3,
        optimizer_kwargs: dict[str, Any] | None = None,
        scheduler: str | Callable[[torch.optim.Optimizer], Any] | None = None,
        epochs: int = 10,
        batch_size: int = 100,
        clip_grad_norm: float | None = None,
        device: str | torch.device = "auto",
        progress: bool | str = True,
        seed: int | None = None,
        early_stopping_patience: int | None = None,
        restore_best: bool = True,
        val_metric: Callable[[Any], float] | None = None,
        callbacks: Sequence[Callback] = (),
        checkpoint_path: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        binarize: str | None = None,
        strategy: str | None = None,
        backend: str = "auto",
        precision: str = "fp32",
    ) -> None:
        check_positive_int(num_particles, "num_particles")
        self.objective: Objective = as_objective(model, guide, elbo, num_particles)
        self.model = model
        if not (callable(optimizer) or optimizer in OPTIMIZERS):
            raise InputError(
                f"unknown optimizer {optimizer!r}; expected one of {list(OPTIMIZERS)} or a callable"
            )
        if scheduler not in (None, "cosine") and not callable(scheduler):
            raise InputError(f"unknown scheduler {scheduler!r}; expected None, 'cosine' or a callable")
        self.optimizer_spec = optimizer
        self.lr = check_positive_float(lr, "lr")
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.scheduler_spec = scheduler
        self.epochs = check_positive_int(epochs, "epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.clip_grad_norm = _check_clip(clip_grad_norm)
        self.device = resolve_device(device)
        self.progress = progress
        self.seed = None if seed is None else check_seed(seed)
        self.seed_used: int | None = None
        self.early_stopping_patience = (
            None
            if early_stopping_patience is None
            else check_positive_int(early_stopping_patience, "early_stopping_patience")
        )
        self.restore_best = restore_best
        if val_metric is not None and not callable(val_metric):
            raise InputError(f"val_metric must be a callable model -> float, got {type(val_metric).__name__}")
        self.val_metric = val_metric
        self.callbacks = list(callbacks)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
        if binarize not in (None, "dynamic"):
            raise InputError(f"binarize must be None or 'dynamic', got {binarize!r}")
        self.binarize = binarize
        if strategy not in (None, "ddp"):
            raise InputError(f"unknown strategy {strategy!r}; expected None or 'ddp'")
        if precision not in PRECISIONS:
            raise InputError(f"unknown precision {precision!r}; expected one of {list(PRECISIONS)}")
        if precision != "fp32" and not is_mixed_precision_safe(model):
            raise InputError(
                f"{type(model).__name__} does not declare mixed_precision_safe = True; train it with precision='fp32'"
            )
        if precision == "fp16" and self.device.type != "cuda":
            raise InputError("precision='fp16' needs a CUDA device; use 'bf16' on CPUs")
        if strategy == "ddp" and not getattr(self.objective, "differentiable", True):
            raise InputError(
                "strategy='ddp' needs an objective with a differentiable loss; Pyro's RenyiELBO ('iwae') "
                "accumulates its own gradients, which DistributedDataParallel cannot average"
            )
        self.strategy = strategy
        self.backend = backend
        self.precision = precision
        self.distributed: DistributedInfo | None = None
        self._step_module: torch.nn.Module | None = None
        self._data_checked = False
        self._grad_scaler: Any = None
        self.history = History()
        self.stop_training = False
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        self.num_data = 0
        self._best_value = math.inf
        self._best_state: dict[str, dict[str, torch.Tensor]] | None = None
        self._epochs_without_improvement = 0

    # ----------------------------------------------------------------------------- set-up
    def _make_optimizer(self) -> torch.optim.Optimizer:
        return make_optimizer(
            self.optimizer_spec, list(self.objective.parameters()), self.lr, dict(self.optimizer_kwargs)
        )

    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        return make_scheduler(self.scheduler_spec, optimizer, self.epochs)

    def _batches(
        self, data: Any, shuffle: bool, generator: torch.Generator | None, num_data: int | None = None
    ) -> Batches:
        shard = self.distributed if (shuffle and self.distributed is not None) else None
        return as_batches(
            data,
            batch_size=self.batch_size,
            shuffle=shuffle,
            device=self.device,
            generator=generator,
            binarize=self.binarize if shuffle else None,
            num_data=num_data,
            rank=shard.rank if shard else 0,
            world_size=shard.world_size if shard else 1,
        )

    def _validation_batches(self, data: Any) -> Batches:
        try:
            return self._batches(data, shuffle=False, generator=None)
        except InputError as err:
            if "has no length" not in str(err):
                raise
            # a validation stream needs no length: its mean loss is over the examples it yields
            batches = self._batches(data, shuffle=False, generator=None, num_data=max(self.num_data, 1))
            assert isinstance(batches, DeviceBatches)
            batches.check_count = False
            return batches

    def _check_training_data(self, loader: BatchLoader) -> bool:
        """Validate the whole training data once with the model's ``check_data`` (when it satisfies
        :class:`bayesdl.contracts.ChecksData`, the batches are plain row subsets of the tensors, and its
        :func:`~bayesdl.contracts.check_data_arity` equals the number of tensors); the minibatches are then trusted (see
        :func:`bayesdl.validation.checked_data`), which saves the model a pass over every batch."""
        if not isinstance(self.model, ChecksData) or loader.binarize is not None:
            return False
        if check_data_arity(self.model) != len(loader.tensors):
            return False
        check = self.model.check_data
        for start in range(
            0, loader.num_examples, 8192
        ):  # in chunks: a check may allocate a temporary per value
            check(*(t[start : start + 8192] for t in loader.tensors))
        return True

    def _check_dtypes(self, tensors: Sequence[torch.Tensor]) -> None:
        """float64 inputs to a float32 model, and class labels that are not int64, are refused here with the argument
        named, instead of failing later inside a matrix product or a loss with a raw torch error."""
        dtypes = {p.dtype for p in self.objective.parameters() if p.is_floating_point()}
        first = tensors[0] if tensors else None
        if dtypes == {torch.float32} and first is not None and first.dtype == torch.float64:
            where = "data" if len(tensors) == 1 else "data[0]"
            raise InputError(
                f"{where} has dtype torch.float64 but the model's parameters are torch.float32; convert the "
                "data with x.float() (or the model with model.double())"
            )
        likelihood = getattr(self.model, "likelihood", None)
        if (
            len(tensors) == 2
            and getattr(likelihood, "kind", None) == "classification"
            and tensors[1].dtype != torch.long
        ):
            raise InputError(
                f"data[1] (the labels) has dtype {tensors[1].dtype}; class labels must be int64 (torch.long): "
                "convert with y.long()"
            )

    def _first_batch(self, loader: BatchLoader) -> Batch:
        head = tuple(t[: loader.batch_size] for t in loader.tensors)
        if loader.binarize == "dynamic":
            head = ((head[0] > 0.5).to(head[0].dtype),) + head[1:]
        return head[0] if loader.single else head

    # ----------------------------------------------------------------------------- state
    def _module_states(self) -> dict[str, dict[str, torch.Tensor]]:
        return {
            name: {k: v.detach().clone() for k, v in m.state_dict().items()}
            for name, m in self.objective.modules.items()
        }

    def _load_module_states(self, states: dict[str, dict[str, torch.Tensor]]) -> None:
        for name, module in self.objective.modules.items():
            if name not in states:
                raise CheckpointError(f"checkpoint has no state for {name!r}")
            module.load_state_dict({k: v.to(self.device) for k, v in states[name].items()})

    def state_dict(self, epoch: int, loader: Batches) -> dict[str, Any]:
        """Everything needed to resume after ``epoch``: modules, optimizer, scheduler, RNG states, history.

        Arguments:
            epoch: the number of finished epochs.
            loader: the training batches (their generator states are saved).

        Returns:
            A dict of tensors, numbers and nested dicts for :func:`bayesdl.io.save_state`.
        """
        assert self.optimizer is not None
        state = {
            "epoch": epoch,
            "modules": self._module_states(),
            "optimizer": self.optimizer.state_dict(),
            "optimizer_class": type(self.optimizer).__name__,
            "lr": self.lr,
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": global_rng_state(),
            "history": self.history.records,
            "best_value": self._best_value,
            "best_state": self._best_state,
            "epochs_without_improvement": self._epochs_without_improvement,
        }
        if isinstance(loader, BatchLoader):
            state["loader_rng"] = loader.generator.get_state()
        else:
            state["loader_rngs"] = loader.rng_state()
        return state

    def save_checkpoint(self, path: str | os.PathLike, epoch: int, loader: Batches) -> Path:
        """Write a checkpoint (atomically: a temporary file renamed into place).

        Arguments:
            path: the checkpoint file.
            epoch: the number of finished epochs.
            loader: the training batches.

        Returns:
            The path written.
        """
        return save_state(self.state_dict(epoch, loader), path)

    def _check_optimizer_matches(self, path: str | os.PathLike, state: dict[str, Any]) -> None:
        assert self.optimizer is not None
        mine = type(self.optimizer).__name__
        saved = state.get("optimizer_class")
        saved_groups = state["optimizer"]["param_groups"]
        same_keys = all(
            set(a) == set(b) for a, b in zip(saved_groups, self.optimizer.state_dict()["param_groups"])
        )
        if (
            (saved is not None and saved != mine)
            or len(saved_groups) != len(self.optimizer.param_groups)
            or not same_keys
        ):
            raise CheckpointError(
                f"checkpoint {path} holds the state of {saved or 'another optimizer'}, but this trainer uses {mine} "
                f"(optimizer={self.optimizer_spec!r}); resume with the optimizer the run was started with"
            )
        saved_lr = state.get("lr")
        if (
            saved_lr is not None
            and not callable(self.optimizer_spec)
            and not math.isclose(float(saved_lr), self.lr, rel_tol=1e-12)
        ):
            raise CheckpointError(
                f"checkpoint {path} was trained with lr={float(saved_lr):g}, but this trainer has lr={self.lr:g}; a resumed "
                "run continues the original optimizer and schedule, so give the same lr (to go on with another learning "
                "rate, start a new fit from the trained model instead of resuming)"
            )

    def _resume(self, path: str | os.PathLike, loader: Batches) -> int:
        state = load_state(path)
        try:
            self._check_optimizer_matches(path, state)
            self._load_module_states(state["modules"])
            assert self.optimizer is not None
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state["scheduler"] is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            set_global_rng_state(state["rng"])
            if isinstance(loader, BatchLoader):
                loader.generator.set_state(state["loader_rng"])
            else:
                loader.set_rng_state(state["loader_rngs"])
            self.history = History(list(state["history"]))
            self._best_value = float(state["best_value"])
            self._best_state = state["best_state"]
            self._epochs_without_improvement = int(state["epochs_without_improvement"])
            return int(state["epoch"])
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            if isinstance(err, CheckpointError):
                raise
            raise CheckpointError(f"checkpoint {path} does not match this model or trainer: {err}") from err

    # ----------------------------------------------------------------------------- loop
    def evaluate(self, data: Any) -> float:
        """The objective's mean loss over ``data`` (no gradients, evaluation mode).

        Arguments:
            data: a tensor, array, tuple, Dataset or DataLoader (as for :meth:`fit`).

        Returns:
            The mean loss per example.
        """
        with module_local_params(*self.objective.modules.values()):
            return self._evaluate(self._validation_batches(data))

    def _evaluate(self, loader: Batches) -> float:
        self.objective.train(False)
        total, count = 0.0, 0
        try:
            with torch.no_grad():
                for batch in loader:
                    size = len(as_tuple(batch)[0])
                    total += float(self.objective.loss(batch, self.num_data or loader.num_examples)) * size
                    count += size
        finally:
            self.objective.train(True)
        if count == 0:
            raise InputError("the validation data yielded no examples")
        return total / count

    def fit(
        self,
        data: Any,
        val_data: Any = None,
        resume_from: str | os.PathLike | None = None,
        *,
        num_data: int | None = None,
    ) -> History:
        """Train on ``data`` and return the history.

        Arguments:
            data: the training data, any of: a tensor or a tuple of tensors (tuples are unpacked into
                ``loss(*batch)`` / ``model(*batch)``), a numpy array or a tuple of them (floating arrays become
                float32), a map-style ``Dataset``, a ``DataLoader`` (its own batch size, sampler and workers are
                used), an ``IterableDataset`` (give ``num_data``), or a :class:`~bayesdl.data.BatchLoader`.
                Tensors and arrays are moved to the device whole (the fast path); everything else one batch at
                a time.
            val_data: data for the validation loss, in any of the same forms (used for early stopping when
                no ``val_metric`` is given); evaluated once per epoch.
            resume_from: a checkpoint written by this trainer; training continues after its epoch.
            num_data: N, the number of training examples in one pass, for minibatch scaling (the ELBO's N/B
                and the ``num_data`` that ``loss`` receives). Required for data without a length; by default
                the length of the data.

        Returns:
            The :class:`History` (also ``trainer.history``).

        Raises:
            TrainingDivergedError: when a batch loss or gradient, or the validation value, is NaN or infinite
                (the step is not taken, and no checkpoint is written for the epoch).
            InputError: for data of an unsupported form, on the meta device, or without a length and no
                ``num_data``.
        """
        if self.strategy == "ddp":
            self.distributed = init_distributed(self.backend)
            if self.device.type == "cuda":
                self.device = torch.device("cuda", self.distributed.local_rank)
        seed = self.seed if self.seed is not None else fresh_seed()
        if self.distributed is not None and self.seed is None:  # every process must draw the same batches
            shared = torch.tensor([seed], dtype=torch.int64, device=self.device)
            torch.distributed.broadcast(shared, src=0)
            seed = int(shared.item())
        self.seed_used = seed
        cuda = (
            [self.device.index if self.device.index is not None else torch.cuda.current_device()]
            if self.device.type == "cuda"
            else []
        )
        with isolated_rng(seed, cuda), module_local_params(*self.objective.modules.values()):
            return self._fit(data, val_data, resume_from, num_data, seed)

    def _fit(
        self, data: Any, val_data: Any, resume_from: str | os.PathLike | None, num_data: int | None, seed: int
    ) -> History:
        generator = torch.Generator()
        generator.manual_seed(seed)
        loader = self._batches(data, shuffle=True, generator=generator, num_data=num_data)
        if isinstance(data, BatchLoader):
            loader.generator.manual_seed(seed)
        self.num_data = loader.num_examples
        val_loader = None if val_data is None else self._validation_batches(val_data)
        pending: Iterator[Batch] | None = None
        if isinstance(loader, BatchLoader):
            self._check_dtypes(loader.tensors)
            self._data_checked = self._check_training_data(loader)
            first = self._first_batch(loader)
        else:
            # a stream is read once per epoch and never in an extra pass: the first batch of epoch 1 sets
            # the model up, and epoch 1 then continues from the second batch
            self._data_checked = False
            pending = iter(loader)
            first = next(pending, None)
            if first is None:
                raise InputError("the training data yielded no batch")
        self.objective.to(self.device)
        self.objective.setup(first, self.num_data)
        self.objective.to(self.device)
        self._step_module = _ObjectiveStep(self.objective, self.num_data)
        if self.distributed is not None:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._step_module = DistributedDataParallel(self._step_module, device_ids=ids)
        if self.precision == "fp16":
            self._grad_scaler = torch.amp.GradScaler("cuda")
        self.optimizer = self._make_optimizer()
        self.scheduler = self._make_scheduler(self.optimizer)
        start_epoch = 0
        if resume_from is not None:
            if pending is not None:
                pending.close()  # the resumed epoch draws its batches afresh from the restored generators
                pending = None
            start_epoch = self._resume(resume_from, loader)
        elif pending is not None:
            pending = itertools.chain([first], pending)
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_fit_start(self)
        bar = self._progress_bar(start_epoch)
        for epoch in range(start_epoch + 1, self.epochs + 1):
            record = self._train_epoch(epoch, loader, pending)
            pending = None
            if val_loader is not None or self.val_metric is not None:
                value = (
                    float(self.val_metric(self.model))
                    if self.val_metric is not None
                    else self._evaluate(val_loader)
                )
                if not math.isfinite(value):
                    what = "val_metric" if self.val_metric is not None else "validation loss"
                    raise TrainingDivergedError(
                        f"the {what} is {value} after epoch {epoch}; no checkpoint was written for this epoch "
                        "(check the validation data, or try a lower lr or clip_grad_norm)"
                    )
                record["val_loss"] = value
                self._track_best(value)
            self.history.records.append(record)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, record)
            if self.scheduler is not None:
                self.scheduler.step()
            if (
                self.is_main_process
                and self.checkpoint_path is not None
                and (epoch % self.checkpoint_every == 0 or epoch == self.epochs)
            ):
                self.save_checkpoint(self.checkpoint_path, epoch, loader)
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k in ("loss", "val_loss")})
            patience = self.early_stopping_patience
            if patience is not None and self._epochs_without_improvement >= patience:
                self.stop_training = True
            if self.stop_training:
                break
        if bar is not None:
            bar.close()
        if self.restore_best and self._best_state is not None:
            self._load_module_states(self._best_state)
        self.objective.train(False)
        return self.history

    @property
    def is_main_process(self) -> bool:
        """True unless this is a data-parallel process other than rank 0."""
        return self.distributed is None or self.distributed.is_main

    def _batch_loss(self, batch: Batch, global_size: int) -> tuple[torch.Tensor, int]:
        """The loss to back-propagate on this process and the local batch size."""
        size = len(as_tuple(batch)[0])
        assert self._step_module is not None
        dtype = PRECISIONS[self.precision]
        # training rows were validated once at the start of fit: the model may skip its per-batch check
        with checked_data(batch) if self._data_checked else contextlib.nullcontext():
            if dtype is None:
                loss = self._step_module(batch)
            else:
                with torch.autocast(self.device.type, dtype=dtype):
                    loss = self._step_module(batch)
        loss = self._checked_loss(loss)
        if dtype is not None:
            loss = loss.float()
        if self.distributed is not None:
            # DDP averages gradients over W processes; weighting each shard by its share of the global
            # batch makes that average equal to the gradient of the global-batch loss.
            loss = loss * (size * self.distributed.world_size / global_size)
        return loss, size

    def _checked_loss(self, loss: Any) -> torch.Tensor:
        name = f"{type(self.model).__name__}.loss()"
        if not isinstance(loss, torch.Tensor):
            raise InputError(f"{name} must return a scalar tensor, got {type(loss).__name__}")
        if loss.numel() != 1:
            raise InputError(
                f"{name} must return a scalar tensor, got shape {tuple(loss.shape)} (reduce it, e.g. with .mean() over the batch)"
            )
        if not loss.requires_grad:
            raise InputError(
                f"{name} returned a tensor that does not depend on any trainable parameter (requires_grad=False)"
            )
        return loss.reshape(())

    def _grad_norm(self, params: list[torch.Tensor]) -> torch.Tensor:
        """A gradient norm that is finite exactly when every gradient is: the global norm that clipping computes
        (when ``clip_grad_norm`` is set, clipping the gradients), else the sum of the per-tensor norms from one
        fused ``_foreach_norm`` pass (cheaper than the global norm's grouping and square root)."""
        if self.clip_grad_norm is not None:
            return torch.nn.utils.clip_grad_norm_(params, self.clip_grad_norm)
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return torch.zeros((), device=self.device)
        try:
            return torch.stack(torch._foreach_norm(grads)).sum()
        except RuntimeError:  # gradients on several devices: the grouping version
            return torch.nn.utils.get_total_norm(grads)

    def _progress_bar(self, start_epoch: int) -> Any:
        if not self.progress or not self.is_main_process:
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=self.epochs,
            initial=start_epoch,
            desc=self.progress if isinstance(self.progress, str) else "training",
            unit="epoch",
            leave=False,
        )

    def _track_best(self, value: float) -> None:
        if value < self._best_value:
            self._best_value = value
            self._epochs_without_improvement = 0
            if self.restore_best:
                self._best_state = copy.deepcopy(self._module_states())
        else:
            self._epochs_without_improvement += 1

    def _train_epoch(
        self, epoch: int, loader: Batches, pending: Iterator[Batch] | None = None
    ) -> dict[str, float]:
        assert self.optimizer is not None
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        self.objective.train(True)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        check_gradients = self._grad_scaler is None  # under fp16 an infinite gradient means "skip this step"
        start = time.perf_counter()
        total, count = 0.0, 0
        for index, batch in enumerate(pending if pending is not None else loader):
            self.optimizer.zero_grad(set_to_none=True)
            loss, size = self._batch_loss(batch, loader.current_global_size)
            if self._grad_scaler is not None:
                self._grad_scaler.scale(loss).backward()
                self._grad_scaler.unscale_(self.optimizer)
            else:
                loss.backward()
            norm = self._grad_norm(params) if (check_gradients or self.clip_grad_norm is not None) else None
            # one device-to-host transfer for both checks
            if norm is not None and check_gradients:
                value, norm_value = torch.stack(
                    [loss.detach().float().to(norm.device), norm.float()]
                ).tolist()
            else:
                value, norm_value = float(loss.detach()), 0.0
            diverged = not (math.isfinite(value) and math.isfinite(norm_value))
            if self.distributed is not None:
                diverged = any_process(diverged, self.device)  # every process must stop together
            if diverged:
                what = (
                    f"training loss became {value}"
                    if not math.isfinite(value)
                    else f"gradient norm became {norm_value}"
                )
                raise TrainingDivergedError(
                    f"{what} at epoch {epoch}, batch {index + 1}; the optimizer step was not taken, so parameters, "
                    "optimizer state and checkpoints are those of the last good step (try a lower lr or clip_grad_norm)"
                )
            if self._grad_scaler is not None:
                self._grad_scaler.step(self.optimizer)
                self._grad_scaler.update()
            else:
                self.optimizer.step()
            if self.distributed is not None:
                value = value * loader.current_global_size / (size * self.distributed.world_size)
            total += value * size
            count += size
            for cb in self.callbacks:
                cb.on_batch_end(self, epoch, index, value)
        total, count = (
            all_reduce_sum([total, float(count)], self.device) if self.distributed else (total, count)
        )
        return {
            "epoch": float(epoch),
            "loss": total / max(count, 1),
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "seconds": time.perf_counter() - start,
        }
