"""bayesdl: probabilistic and Bayesian deep learning on PyTorch and Pyro.

Every model is a PyTorch module with a probabilistic meaning, trained and queried through one shared
inference layer (:mod:`bayesdl.inference`); results come out as numbers, ArviZ data and plots.
"""

import pyro as _pyro

# Parameters of PyroModules live in the modules (not in Pyro's global parameter store), so that the shared
# trainer can use torch optimisers, schedulers and state_dict checkpoints for Pyro models. This must be set
# before any PyroModule is built, hence here; create Pyro modules after importing bayesdl.
_pyro.settings.set(module_local_params=True)

from ._version import __version__  # noqa: E402

__all__ = ["__version__", "load", "save"]


def __getattr__(name: str):  # noqa: ANN202
    # load and save come from bayesdl.io on first use, so that ``bayesdl --help`` need not import torch.
    if name in ("load", "save"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
