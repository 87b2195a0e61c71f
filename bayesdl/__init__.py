"""bayesdl: probabilistic and Bayesian deep learning on PyTorch and Pyro.

Every model is a PyTorch module with a probabilistic meaning, trained and queried through one shared
inference layer (:mod:`bayesdl.inference`); results come out as numbers, ArviZ data and plots.

Importing bayesdl changes no global state: no Pyro setting, random generator or matplotlib backend.
Where bayesdl needs Pyro's module-local parameters (training and predicting with Pyro models), it turns
them on for the duration of its own call (:func:`bayesdl.nn.pyro_params.module_local_params`).
"""

from ._version import __version__  # noqa: E402

__all__ = ["__version__", "load", "save"]


def __getattr__(name: str):  # noqa: ANN202
    # load and save come from bayesdl.io on first use, so that ``bayesdl --help`` need not import torch.
    if name in ("load", "save"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
