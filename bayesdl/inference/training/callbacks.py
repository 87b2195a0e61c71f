"""The hooks a :class:`~bayesdl.inference.training.trainer.Trainer` calls during a fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Hooks called by the trainer; override any of them. Set ``trainer.stop_training = True`` to stop.

    The base class takes no constructor arguments and every hook does nothing.

    Example:
        >>> import torch
        >>> from bayesdl.inference import Trainer
        >>> class StopAfter(Callback):
        ...     def __init__(self, epochs): self.epochs = epochs
        ...     def on_epoch_end(self, trainer, epoch, record):
        ...         trainer.stop_training = epoch >= self.epochs
        >>> class Mean(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__(); self.mu = torch.nn.Parameter(torch.zeros(1))
        ...     def loss(self, x):
        ...         return ((x - self.mu) ** 2).mean()
        >>> trainer = Trainer(Mean(), epochs=50, progress=False, seed=0, callbacks=[StopAfter(3)])
        >>> len(trainer.fit(torch.ones(8, 1)))
        3
    """

    def on_fit_start(self, trainer: Trainer) -> None:  # noqa: B027 - optional hook
        """Called once before the first epoch (after a resume has been applied)."""

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:  # noqa: B027
        """Called before each epoch; ``epoch`` counts from 1."""

    def on_batch_end(self, trainer: Trainer, epoch: int, batch_index: int, loss: float) -> None:  # noqa: B027
        """Called after each optimiser step with the batch loss."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:  # noqa: B027
        """Called after each epoch with its history record (before checkpointing)."""
