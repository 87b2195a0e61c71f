"""Training a deep ensemble: each member on its own with the shared trainer (Lakshminarayanan et al. 2017)."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ..trainer import History, Trainer


def fit_ensemble(ensemble: Any, data: Any, val_data: Any = None, **trainer_kwargs: Any) -> list[History]:
    """Train each member of ``ensemble`` separately with :class:`~bayesdl.inference.Trainer`; their histories.

    Member m is trained with ``Trainer(member, seed=ensemble.seed + m + seed, **trainer_kwargs)``, so the
    members start from different initialisations (the ensemble's constructor drew them) and also see
    different batch orders, the two sources of diversity in the paper (sec. 2.4). Training the sum of the
    members' losses in one ``Trainer(ensemble)`` is the alternative with shared batches.

    Arguments:
        ensemble: a model with ``members`` (modules satisfying :class:`~bayesdl.contracts.HasLoss`) and an
            integer ``seed``, e.g. :class:`~bayesdl.models.DeepEnsemble`.
        data: the training data, in any form the trainer accepts.
        val_data: optional validation data for every member.
        **trainer_kwargs: passed to every member's trainer (``seed`` is added to the member's seed).

    Returns:
        The training history of every member, in member order.

    Example:
        >>> import torch
        >>> from bayesdl.models import MLP, DeepEnsemble
        >>> ens = DeepEnsemble(MLP(1, [8], 2), num_members=2, likelihood="heteroscedastic")
        >>> histories = fit_ensemble(ens, (torch.randn(20, 1), torch.randn(20)), epochs=1, progress=False)
        >>> len(histories)
        2

    References:
        Lakshminarayanan, Pritzel & Blundell (2017), Simple and Scalable Predictive Uncertainty Estimation
        using Deep Ensembles, arXiv:1612.01474.
    """
    members = getattr(ensemble, "members", None)
    if members is None or len(members) == 0:
        raise InputError(f"ensemble must have a non-empty members list, got {type(ensemble).__name__}")
    histories = []
    for m, member in enumerate(members):
        kwargs = dict(trainer_kwargs)
        kwargs["seed"] = int(getattr(ensemble, "seed", 0)) + m + kwargs.get("seed", 0)
        histories.append(Trainer(member, **kwargs).fit(data, val_data=val_data))
    return histories
