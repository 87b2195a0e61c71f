"""The training loop: minibatch gradient descent on any bayesdl objective.

The :class:`Trainer` takes any :class:`~bayesdl.inference.objectives.Objective` (a Pyro model/guide
pair under an ELBO, or a module with its own ``loss``) and handles the optimiser and schedule,
gradient clipping, device placement, a progress bar, validation with early stopping and restoring
the best parameters, callbacks, a JSON-saveable history, seeding, and checkpoints that resume
exactly: a run stopped after epoch k and resumed ends with bit-identical parameters to an
uninterrupted run (same machine, same data).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from ...data.loader import Batch, BatchLoader
from ...errors import CheckpointError, InputError, TrainingDivergedError
from ...io import load_state, save_state
from ...validation import check_positive_int, checked_data
from ..distributed import DistributedInfo, all_reduce_sum, any_process, init_distributed
from ..objectives import Objective, as_objective
from .callbacks import Callback
from .devices import resolve_device
from .history import History
from .optimizers import OPTIMIZERS, make_optimizer, make_scheduler
from .seeding import global_rng_state, seed_everything, set_global_rng_state

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def _required_arguments(function: Callable[..., Any]) -> int:
    """The number of positional parameters without a default."""
    empty = inspect.Parameter.empty
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.default is empty for p in inspect.signature(function).parameters.values())



class _ObjectiveStep(torch.nn.Module):
    """Holds an objective's modules so that DistributedDataParallel can wrap one forward = one loss."""

    def __init__(self, objective: Objective, num_data: int) -> None:
        super().__init__()
        self.held = torch.nn.ModuleDict(objective.modules)
        self.objective = objective
        self.num_data = num_data

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.objective.loss(batch, self.num_data)


class Trainer:
    """Fit any bayesdl objective with minibatch gradient descent.

    Arguments:
        model: a module with ``loss(...)``, a Pyro model (then give ``guide`` and/or ``elbo``), a
            ``PyroModule`` with ``model``/``guide`` methods, or an :class:`Objective`.
        guide: the Pyro guide, for Pyro models.
        elbo: "trace", "meanfield", "iwae" (RenyiELBO alpha=0) or a ``pyro.infer.ELBO``.
        num_particles: ELBO particles per example.
        optimizer: "adam", "adamw", "sgd", "rmsprop", or a callable ``params -> Optimizer``.
        lr: the learning rate.
        optimizer_kwargs: extra optimizer arguments (weight decay, momentum, ...). They override the model's
            ``optimizer_defaults``, if it has them (a dict from optimizer name to arguments). Adam and AdamW
            run fused (``fused=True``, one kernel over all parameters) when every parameter is a floating-point
            tensor on a CPU or CUDA device, unless ``fused`` or ``foreach`` is given here.
        scheduler: None, "cosine" (annealed over the epochs), or ``optimizer -> LRScheduler``;
            stepped once per epoch.
        epochs: the number of passes over the data.
        batch_size: the minibatch size.
        clip_grad_norm: clip the global gradient norm to this value, if given.
        device: "auto" (CUDA when present), "cpu", "cuda:1", ...
        progress: show a progress bar with the running loss.
        seed: seeds Python, NumPy, torch and Pyro, and the batch order.
        early_stopping_patience: stop after this many epochs without a better validation value.
        restore_best: on early stopping (or at the end), restore the parameters of the best epoch.
        val_metric: ``model -> float`` (lower is better) evaluated each epoch; by default the
            objective's mean loss on ``val_data``.
        callbacks: :class:`Callback` objects.
        checkpoint_path: write a checkpoint here every ``checkpoint_every`` epochs (atomically).
        binarize: "dynamic" to redraw binary data for every batch.
        strategy: None for one process, or "ddp" for data-parallel training on ``torch.distributed``
            (launch with ``torchrun``). ``batch_size`` is then the global batch; each process takes an
            interleaved shard of every global batch, gradients are averaged by
            ``DistributedDataParallel``, and only rank 0 writes checkpoints and progress bars.
        backend: "auto" (NCCL on GPUs, gloo on CPUs), "nccl" or "gloo", for ``strategy="ddp"``.
        precision: "fp32", "bf16" or "fp16" (CUDA only, with gradient scaling). Mixed precision runs the
            loss under ``torch.autocast`` and is allowed only for models whose class sets
            ``mixed_precision_safe = True``; the loss itself is accumulated in float32.

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
        >>> history = Trainer(model, lr=0.1, epochs=60, progress=False).fit(torch.full((50, 1), 2.0))
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
        progress: bool = True,
        seed: int = 0,
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
        self.objective: Objective = as_objective(model, guide, elbo, num_particles)
        self.model = model
        if not (callable(optimizer) or optimizer in OPTIMIZERS):
            raise InputError(f"unknown optimizer {optimizer!r}; expected one of {list(OPTIMIZERS)} or a callable")
        if scheduler not in (None, "cosine") and not callable(scheduler):
            raise InputError(f"unknown scheduler {scheduler!r}; expected None, 'cosine' or a callable")
        self.optimizer_spec = optimizer
        self.lr = lr
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.scheduler_spec = scheduler
        self.epochs = check_positive_int(epochs, "epochs")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.clip_grad_norm = clip_grad_norm
        self.device = resolve_device(device)
        self.progress = progress
        self.seed = seed
        self.early_stopping_patience = early_stopping_patience
        self.restore_best = restore_best
        self.val_metric = val_metric
        self.callbacks = list(callbacks)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
        self.binarize = binarize
        if strategy not in (None, "ddp"):
            raise InputError(f"unknown strategy {strategy!r}; expected None or 'ddp'")
        if precision not in PRECISIONS:
            raise InputError(f"unknown precision {precision!r}; expected one of {list(PRECISIONS)}")
        if precision != "fp32" and not getattr(model, "mixed_precision_safe", False):
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
        defaults = {} if callable(self.optimizer_spec) else getattr(self.model, "optimizer_defaults", {}).get(self.optimizer_spec, {})
        return make_optimizer(self.optimizer_spec, list(self.objective.parameters()), self.lr, {**defaults, **self.optimizer_kwargs})

    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        return make_scheduler(self.scheduler_spec, optimizer, self.epochs)

    def _loader(self, data: Batch | BatchLoader, shuffle: bool, generator: torch.Generator | None) -> BatchLoader:
        if isinstance(data, BatchLoader):
            return data
        if isinstance(data, list):
            data = tuple(data)
        moved = tuple(t.to(self.device) for t in data) if isinstance(data, tuple) else data.to(self.device)
        shard = self.distributed if (shuffle and self.distributed is not None) else None
        return BatchLoader(moved, self.batch_size, shuffle=shuffle, binarize=self.binarize if shuffle else None,
                           generator=generator, rank=shard.rank if shard else 0, world_size=shard.world_size if shard else 1)

    def _check_training_data(self, loader: BatchLoader) -> bool:
        """Validate the whole training data once with the model's ``check_data`` (when it has one, the batches
        are plain row subsets of the tensors, and ``check_data`` takes one required argument per tensor, e.g.
        ``check_data(x)`` or ``check_data(x, y)``); the minibatches are then trusted (see
        :func:`bayesdl.validation.checked_data`), which saves the model a pass over every batch."""
        check = getattr(self.model, "check_data", None)
        if not callable(check) or loader.binarize is not None or _required_arguments(check) != len(loader.tensors):
            return False
        for start in range(0, loader.num_examples, 8192):  # in chunks: a check may allocate a temporary per value
            check(*(t[start : start + 8192] for t in loader.tensors))
        return True

    def _first_batch(self, loader: BatchLoader) -> Batch:
        head = tuple(t[: loader.batch_size] for t in loader.tensors)
        if loader.binarize == "dynamic":
            head = ((head[0] > 0.5).to(head[0].dtype),) + head[1:]
        return head[0] if loader.single else head

    # ----------------------------------------------------------------------------- state
    def _module_states(self) -> dict[str, dict[str, torch.Tensor]]:
        return {name: {k: v.detach().clone() for k, v in m.state_dict().items()} for name, m in self.objective.modules.items()}

    def _load_module_states(self, states: dict[str, dict[str, torch.Tensor]]) -> None:
        for name, module in self.objective.modules.items():
            if name not in states:
                raise CheckpointError(f"checkpoint has no state for {name!r}")
            module.load_state_dict({k: v.to(self.device) for k, v in states[name].items()})

    def state_dict(self, epoch: int, loader: BatchLoader) -> dict[str, Any]:
        """Everything needed to resume after ``epoch``: modules, optimizer, scheduler, RNG states, history."""
        assert self.optimizer is not None
        return {
            "epoch": epoch,
            "modules": self._module_states(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": global_rng_state(),
            "loader_rng": loader.generator.get_state(),
            "history": self.history.records,
            "best_value": self._best_value,
            "best_state": self._best_state,
            "epochs_without_improvement": self._epochs_without_improvement,
        }

    def save_checkpoint(self, path: str | os.PathLike, epoch: int, loader: BatchLoader) -> Path:
        """Write a checkpoint (atomically: a temporary file renamed into place)."""
        return save_state(self.state_dict(epoch, loader), path)

    def _resume(self, path: str | os.PathLike, loader: BatchLoader) -> int:
        state = load_state(path)
        try:
            self._load_module_states(state["modules"])
            assert self.optimizer is not None
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state["scheduler"] is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            set_global_rng_state(state["rng"])
            loader.generator.set_state(state["loader_rng"])
            self.history = History(list(state["history"]))
            self._best_value = float(state["best_value"])
            self._best_state = state["best_state"]
            self._epochs_without_improvement = int(state["epochs_without_improvement"])
            return int(state["epoch"])
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            raise CheckpointError(f"checkpoint {path} does not match this model or trainer: {err}") from err

    # ----------------------------------------------------------------------------- loop
    def evaluate(self, data: Batch | BatchLoader) -> float:
        """The objective's mean loss over ``data`` (no gradients, evaluation mode)."""
        loader = self._loader(data, shuffle=False, generator=None)
        self.objective.train(False)
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in loader:
                size = len(batch[0] if isinstance(batch, tuple) else batch)
                total += float(self.objective.loss(batch, self.num_data or loader.num_examples)) * size
                count += size
        self.objective.train(True)
        return total / count

    def fit(
        self,
        data: Batch | BatchLoader,
        val_data: Batch | BatchLoader | None = None,
        resume_from: str | os.PathLike | None = None,
    ) -> History:
        """Train on ``data`` (a tensor, a tuple of tensors, or a BatchLoader) and return the history.

        Arguments:
            data: the training data; tuples are unpacked into ``loss(*batch)`` / ``model(*batch)``.
            val_data: data for the validation loss (used for early stopping when no
                ``val_metric`` is given).
            resume_from: a checkpoint written by this trainer; training continues after its epoch.

        Raises:
            TrainingDivergedError: when a batch loss is NaN or infinite (parameters are left as they
                were before that step, and no checkpoint is written for the epoch).
        """
        if self.strategy == "ddp":
            self.distributed = init_distributed(self.backend)
            if self.device.type == "cuda":
                self.device = torch.device("cuda", self.distributed.local_rank)
        seed_everything(self.seed)
        generator = torch.Generator()
        generator.manual_seed(self.seed)
        loader = self._loader(data, shuffle=True, generator=generator)
        if isinstance(data, BatchLoader):
            loader.generator.manual_seed(self.seed)
        self.num_data = loader.num_examples
        self._data_checked = self._check_training_data(loader)
        self.objective.to(self.device)
        self.objective.setup(self._first_batch(loader), self.num_data)
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
        start_epoch = self._resume(resume_from, loader) if resume_from is not None else 0
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_fit_start(self)
        bar = self._progress_bar(start_epoch)
        for epoch in range(start_epoch + 1, self.epochs + 1):
            record = self._train_epoch(epoch, loader)
            if val_data is not None or self.val_metric is not None:
                record["val_loss"] = self.val_metric(self.model) if self.val_metric is not None else self.evaluate(val_data)
                self._track_best(record["val_loss"])
            self.history.records.append(record)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, record)
            if self.scheduler is not None:
                self.scheduler.step()
            if self.is_main_process and self.checkpoint_path is not None and (epoch % self.checkpoint_every == 0 or epoch == self.epochs):
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

    def _batch_loss(self, batch: Batch, global_size: int) -> tuple[torch.Tensor, float, int]:
        """The loss to back-propagate on this process, its float value, and the local batch size."""
        size = len(batch[0] if isinstance(batch, tuple) else batch)
        assert self._step_module is not None
        dtype = PRECISIONS[self.precision]
        # training rows were validated once at the start of fit: the model may skip its per-batch check
        with checked_data(batch) if self._data_checked else contextlib.nullcontext():
            if dtype is None:
                loss = self._step_module(batch)
            else:
                with torch.autocast(self.device.type, dtype=dtype):
                    loss = self._step_module(batch)
                loss = loss.float()
        if self.distributed is not None:
            # DDP averages gradients over W processes; weighting each shard by its share of the global
            # batch makes that average equal to the gradient of the global-batch loss.
            loss = loss * (size * self.distributed.world_size / global_size)
        return loss, float(loss.detach()), size

    def _progress_bar(self, start_epoch: int) -> Any:
        if not self.progress or not self.is_main_process:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.epochs, initial=start_epoch, desc="training", unit="epoch", leave=False)

    def _track_best(self, value: float) -> None:
        if value < self._best_value:
            self._best_value = value
            self._epochs_without_improvement = 0
            if self.restore_best:
                self._best_state = copy.deepcopy(self._module_states())
        else:
            self._epochs_without_improvement += 1

    def _train_epoch(self, epoch: int, loader: BatchLoader) -> dict[str, float]:
        assert self.optimizer is not None
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        self.objective.train(True)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        start = time.perf_counter()
        total, count = 0.0, 0
        for index, batch in enumerate(loader):
            self.optimizer.zero_grad(set_to_none=True)
            loss, value, size = self._batch_loss(batch, loader.current_global_size)
            diverged = not math.isfinite(value)
            if self.distributed is not None:
                diverged = any_process(diverged, self.device)  # every process must stop together
            if diverged:
                raise TrainingDivergedError(
                    f"training loss became {value} at epoch {epoch}, batch {index + 1}; parameters were not "
                    "updated with it and no checkpoint was written for this epoch (try a lower lr or clip_grad_norm)"
                )
            if self._grad_scaler is not None:
                self._grad_scaler.scale(loss).backward()
                self._grad_scaler.unscale_(self.optimizer)
            else:
                loss.backward()
            if self.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, self.clip_grad_norm)
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
        total, count = all_reduce_sum([total, float(count)], self.device) if self.distributed else (total, count)
        return {
            "epoch": float(epoch),
            "loss": total / max(count, 1),
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "seconds": time.perf_counter() - start,
        }
