"""A Trainer callback that records the training monitors of an energy-based model (reconstruction error, pseudo-log-likelihood).

It lives on the inference side (it is a Trainer callback) and reaches the model only through the two monitor
methods of :class:`bayesdl.contracts.HasTrainingMonitors`, so no model imports the trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ..training.callbacks import Callback

if TYPE_CHECKING:
    from ...contracts import HasTrainingMonitors


class RBMMonitor(Callback):
    """Trainer callback that adds the RBM training monitors to every epoch's history record.

    Records ``monitor_reconstruction_error`` and, for Bernoulli units,
    ``monitor_pseudo_log_likelihood`` (means per example on ``data``). These are monitors, not
    likelihoods; use :meth:`RBM.log_prob` with AIS for the log-likelihood.

    Arguments:
        rbm: the model being trained: any :class:`~bayesdl.contracts.HasTrainingMonitors` (an RBM).
        data: the examples the monitors are computed on (checked with the model's ``check_data``).
        seed: seeds the pseudo-likelihood's random unit choice (``seed + epoch`` at each epoch).

    Example:
        >>> from bayesdl.inference import Trainer
        >>> from bayesdl.models.rbm import RBM
        >>> x = (torch.rand(40, 5, generator=torch.Generator().manual_seed(0)) < 0.5).float()
        >>> rbm = RBM(5, 3)
        >>> h = Trainer(rbm, optimizer="sgd", lr=0.1, epochs=1, batch_size=10, progress=False,
        ...             callbacks=[RBMMonitor(rbm, x)]).fit(x)
        >>> "monitor_reconstruction_error" in h.records[0]
        True
    """

    def __init__(self, rbm: HasTrainingMonitors, data: torch.Tensor, seed: int = 0) -> None:
        self.rbm = rbm
        self.data = rbm.check_data(data, "data")
        self.seed = seed

    def on_epoch_end(self, trainer: Any, epoch: int, record: dict[str, float]) -> None:
        data = self.data.to(next(self.rbm.parameters()).device)
        record["monitor_reconstruction_error"] = float(self.rbm.reconstruction_error(data).mean())
        if not getattr(self.rbm, "gaussian", False):  # the pseudo-likelihood is defined for binary units
            record["monitor_pseudo_log_likelihood"] = float(
                self.rbm.pseudo_log_likelihood(data, seed=self.seed + epoch).mean()
            )
