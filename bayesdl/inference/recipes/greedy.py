"""Greedy layer-wise training of a stack: fit layer l on what layers below it produce (Hinton et al. 2006)."""

from __future__ import annotations

from typing import Any

import torch

from ...errors import InputError
from ..trainer import History, Trainer


def fit_greedy(
    stack: Any, data: torch.Tensor, init_from_data: bool = True, **trainer_kwargs: Any
) -> list[History]:
    """Train the layers of ``stack`` one after the other with :class:`~bayesdl.inference.Trainer`.

    Layer l is trained on ``stack.propagate(l, x_l)`` samples of the layer below, drawn upward through the
    layers already trained (the data for l = 0). For a deep belief net each layer is an RBM and the
    samples are h^l ~ p(h^l | h^{l-1}); every added layer then improves a variational lower bound on
    log p(v) when initialised suitably (Hinton, Osindero & Teh 2006).

    Arguments:
        stack: a model with ``layers()`` (the modules to train, bottom first), ``check_data(x)``,
            ``propagate(index, x, generator)`` (the input of the next layer) and an integer ``seed``; e.g.
            :class:`~bayesdl.models.DBN`. A layer with ``init_from_data(x)`` is initialised from its input
            first when ``init_from_data`` is True.
        data: the training data of the bottom layer.
        init_from_data: call each layer's ``init_from_data`` on its input before training it.
        **trainer_kwargs: passed to every layer's trainer.

    Returns:
        The training history of every layer, bottom first.

    Example:
        >>> from bayesdl.models import DBN
        >>> x = (torch.rand(60, 6, generator=torch.Generator().manual_seed(0)) < 0.4).float()
        >>> histories = fit_greedy(DBN([6, 4, 3]), x, optimizer="sgd", lr=0.1, epochs=1, batch_size=20, progress=False)
        >>> len(histories)
        2

    References:
        Hinton, Osindero & Teh (2006), A fast learning algorithm for deep belief nets, Neural Computation 18(7).
    """
    for attribute in ("layers", "propagate", "check_data"):
        if not callable(getattr(stack, attribute, None)):
            raise InputError(
                f"stack must have a {attribute}() method for greedy training, {type(stack).__name__} has none"
            )
    x = stack.check_data(data, "data")
    generator = torch.Generator(device=x.device).manual_seed(int(getattr(stack, "seed", 0)))
    histories = []
    for index, layer in enumerate(stack.layers()):
        if init_from_data and callable(getattr(layer, "init_from_data", None)):
            layer.init_from_data(x)
        histories.append(Trainer(layer, **trainer_kwargs).fit(x))
        with torch.no_grad():
            x = stack.propagate(index, x, generator)
    return histories
