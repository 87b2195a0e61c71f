"""Module-local Pyro parameters for the duration of a call, without changing Pyro's global setting.

With ``pyro.settings.set(module_local_params=True)`` the parameters of a ``PyroModule`` (an autoguide's
``locs`` and ``scales``, say) live in the module itself instead of Pyro's global parameter store. That is
what lets bayesdl train Pyro models with torch optimizers and ``state_dict`` checkpoints, and keeps two
guides whose sites have the same names from sharing parameters through the store. bayesdl never sets it
globally: :func:`module_local_params` turns it on inside a block (a fit, a prediction) and puts the
caller's setting back afterwards, so a plain Pyro program that imports bayesdl keeps its parameter store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pyro
import torch
from pyro.nn import PyroModule


def _give_local_state(module: Any) -> None:
    # A PyroModule built while the setting was off has a context without the local parameter state that
    # Pyro creates only when the setting is on at construction; add the (empty) state it would have had.
    if not isinstance(module, torch.nn.Module):
        return
    for sub in module.modules():
        if isinstance(sub, PyroModule):
            context = sub._pyro_context
            if not hasattr(context, "param_state"):
                context.param_state = {"params": {}, "constraints": {}}


@contextlib.contextmanager
def module_local_params(*modules: Any) -> Iterator[None]:
    """Run the block with Pyro's ``module_local_params`` on, restoring the previous setting afterwards.

    Arguments:
        modules: the modules (or other objects, which are skipped) that the block will run; PyroModules
            among them that were built with the setting off are prepared for it.

    Example:
        >>> import pyro
        >>> before = pyro.settings.get("module_local_params")
        >>> with module_local_params():
        ...     pyro.settings.get("module_local_params")
        True
        >>> pyro.settings.get("module_local_params") == before
        True
    """
    for module in modules:
        _give_local_state(module)
    if pyro.settings.get("module_local_params"):
        yield
        return
    with pyro.settings.context(module_local_params=True):
        yield
