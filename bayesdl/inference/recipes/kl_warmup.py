"""Linear KL warm-up as a trainer callback, for any model with a ``kl_weight`` (:class:`bayesdl.contracts.KLWeighted`).

Bowman et al. (2015), arXiv:1511.06349; Sønderby et al. (2016), arXiv:1602.02282.
"""

from __future__ import annotations

from ...contracts import KLWeighted
from ...errors import InputError
from ...validation import check_positive_int
from ..trainer import Callback, Trainer


class KLWarmup(Callback):
    """Raise the model's ``kl_weight`` linearly from 1/steps to 1 over the first ``steps`` optimiser steps.

    Works for any :class:`~bayesdl.contracts.KLWeighted` model. For the VAE the weight multiplies beta in
    :meth:`VAE.loss` and scales the z site in :meth:`VAE.model` / :meth:`VAE.guide`. It starts at
    1/steps rather than 0 because Pyro's scale must be positive. It reaches 1 after ``steps`` steps and is set to 1 after the last epoch, so evaluation after
    ``fit`` uses the true ELBO (set ``model.kl_weight = 1.0`` yourself after an early stop).

    Arguments:
        steps: the number of optimiser steps (batches) of the warm-up; or give ``epochs``.
        epochs: the warm-up length in epochs (converted to steps on the first epoch).

    Example:
        >>> import torch
        >>> from bayesdl.inference import Trainer
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> warm = KLWarmup(steps=10)
        >>> _ = Trainer(vae, epochs=1, batch_size=2, progress=False, callbacks=[warm]).fit(torch.ones(8, 4))
        >>> warm.weights[:4], vae.kl_weight
        ([0.1, 0.2, 0.3, 0.4], 1.0)
    """

    def __init__(self, steps: int | None = None, epochs: int | None = None) -> None:
        if (steps is None) == (epochs is None):
            raise InputError("give exactly one of steps or epochs")
        self.steps = None if steps is None else check_positive_int(steps, "steps")
        self.epochs = None if epochs is None else check_positive_int(epochs, "epochs")
        self.step = 0
        #: the weight used at each step, for plots and tests
        self.weights: list[float] = []

    def _set(self, trainer: Trainer) -> None:
        weight = min(1.0, (self.step + 1) / (self.steps or 1))
        trainer.model.kl_weight = weight
        self.weights.append(weight)

    def on_fit_start(self, trainer: Trainer) -> None:
        if not isinstance(trainer.model, KLWeighted):
            raise InputError(
                f"KLWarmup needs a model with a kl_weight attribute, not {type(trainer.model).__name__}"
            )
        if self.epochs is not None:
            self.steps = self.epochs * -(-trainer.num_data // trainer.batch_size)
        self.step = 0
        self.weights = []
        self._set(trainer)

    def on_batch_end(self, trainer: Trainer, epoch: int, batch_index: int, loss: float) -> None:
        self.step += 1
        self._set(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:
        record["kl_weight"] = float(trainer.model.kl_weight)
        if epoch == trainer.epochs:
            trainer.model.kl_weight = 1.0
