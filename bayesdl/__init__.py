"""bayesdl: probabilistic and Bayesian deep learning on PyTorch and Pyro.

Every model is a PyTorch module with a probabilistic meaning, trained and queried through one shared
inference layer (:mod:`bayesdl.inference`); results come out as numbers, ArviZ data and plots.

Importing bayesdl changes no global state: no Pyro setting, random generator or matplotlib backend.
Where bayesdl needs Pyro's module-local parameters (training and predicting with Pyro models), it turns
them on for the duration of its own call (:func:`bayesdl.nn.pyro_params.module_local_params`).

Layers: imports go down only, checked over every import (nested and relative ones too) by ``tests/test_layers.py``.
Bottom up: ``errors`` -> ``validation``, ``deprecation``, ``randomness``, ``progress``, ``densities`` -> ``results``, ``io``, ``data``, ``ops``
-> ``contracts``, ``bounds``, ``montecarlo`` -> ``nn`` -> {``models`` | ``inference`` | ``diagnostics``} ->
``experiments`` -> ``cli``. The three in braces are siblings that never import one another: models build
:mod:`bayesdl.results` types and call the generic kernels of :mod:`bayesdl.montecarlo`; inference drives a model only
through the protocols of :mod:`bayesdl.contracts`; diagnostics is the only place ArviZ is reached. Names of input
widths follow one convention: ``features`` is the width of the variable a density models (flows, NADE, MADE),
``in_features``/``out_features`` are a network's or layer's widths as in ``torch.nn.Linear`` (``MLP``,
``RecurrentNet``, ``DenoisingMLP``), a GP's input width is ``num_inputs``, hidden widths are ``hidden_sizes`` (one
width: ``hidden_size``), and a count of stacked layers or transforms is ``num_layers``. Output heads and their
option names (``"levels"``, ``"categorical"``, ``"probit"``, ...) are one vocabulary, :mod:`bayesdl.nn.heads`.
"""

from ._version import __version__  # noqa: E402

__all__ = ["__version__", "load", "save"]


def __getattr__(name: str):  # noqa: ANN202
    # load and save come from bayesdl.io on first use, so that ``bayesdl --help`` need not import torch.
    if name in ("load", "save"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
