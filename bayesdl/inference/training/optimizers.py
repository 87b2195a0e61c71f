"""Optimizers and learning-rate schedules by name, with the fused Adam kernel where it applies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch

from ...errors import InputError

OptimizerName = Literal["adam", "adamw", "sgd", "rmsprop"]

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Adam and AdamW run as one fused kernel over all parameters by default: the same update up to rounding, without
# the dozen per-tensor passes (and their large temporaries) of the multi-tensor version, which on a CPU can take a
# third of a training step. Pass optimizer_kwargs={"fused": False} (or "foreach") to choose otherwise.
FUSED_OPTIMIZERS = ("adam", "adamw")


def _fusable(params: list[torch.Tensor]) -> bool:
    return all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)


def make_optimizer(
    spec: str | Callable[..., torch.optim.Optimizer],
    params: list[torch.nn.Parameter],
    lr: float,
    kwargs: dict[str, Any],
) -> torch.optim.Optimizer:
    """Build the optimizer named by ``spec`` (or call ``spec(params)``) over ``params``.

    Arguments:
        spec: "adam", "adamw", "sgd", "rmsprop", or a callable ``params -> Optimizer``.
        params: the parameters to train (non-empty).
        lr: the learning rate (ignored for a callable ``spec``).
        kwargs: extra optimizer arguments; Adam and AdamW get ``fused=True`` unless ``fused`` or ``foreach``
            is given and every parameter is a floating-point CPU or CUDA tensor.

    Returns:
        The optimizer.

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(2))
        >>> opt = make_optimizer("adam", [w], 0.1, {})
        >>> type(opt).__name__, opt.defaults["fused"]
        ('Adam', True)
    """
    if not params:
        raise InputError("the model has no trainable parameters")
    if callable(spec):
        return spec(params)
    kwargs = dict(kwargs)
    if spec in FUSED_OPTIMIZERS and "fused" not in kwargs and "foreach" not in kwargs and _fusable(params):
        kwargs["fused"] = True
    return OPTIMIZERS[spec](params, lr=lr, **kwargs)


def make_scheduler(
    spec: str | Callable[[torch.optim.Optimizer], Any] | None, optimizer: torch.optim.Optimizer, epochs: int
) -> Any:
    """Build the per-epoch learning-rate schedule: None, "cosine" (annealed over ``epochs``) or ``spec(optimizer)``.

    Arguments:
        spec: None, "cosine", or a callable ``optimizer -> LRScheduler``.
        optimizer: the optimizer to schedule.
        epochs: the number of epochs (the cosine period).

    Returns:
        The scheduler, or None.

    Example:
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> type(make_scheduler("cosine", opt, 10)).__name__
        'CosineAnnealingLR'
    """
    if spec is None:
        return None
    if spec == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    return spec(optimizer)
