"""Saving and loading models and training state without pickle.

- :mod:`~bayesdl.io.registry`: :func:`serializable`, the registry of classes that may be rebuilt, keyed by
  stable names, and :mod:`~bayesdl.io.aliases`, the table of legacy full class names.
- :mod:`~bayesdl.io.atomic`: atomic writes that leave no temporary files and honour the umask.
- :mod:`~bayesdl.io.container`: the safetensors container with a JSON header that both formats use.
- :mod:`~bayesdl.io.model_file`: the model format, :func:`save` and :func:`load`.
- :mod:`~bayesdl.io.guide_file`: the format of a trained Pyro autoguide with its model.
- :mod:`~bayesdl.io.preflight`: checking a stored config against the file before building it.
- :mod:`~bayesdl.io.state_file`: the checkpoint format, :func:`save_state` and :func:`load_state`.

Loading parses JSON and raw tensor bytes only and rebuilds only registered classes, so a file from someone
else cannot run code; a pickle (``torch.save``) file is refused before any of its content is interpreted.
"""

from .atomic import atomic_write_bytes, atomic_write_json, atomic_write_with, remove_stale_temporaries
from .guide_file import GUIDE_CLASSES, GUIDE_FORMAT, guide_model
from .model_file import MODEL_FORMAT, load, save
from .registry import registered_classes, serializable
from .state_file import STATE_FORMAT, load_state, save_state

__all__ = [
    "GUIDE_CLASSES",
    "GUIDE_FORMAT",
    "MODEL_FORMAT",
    "STATE_FORMAT",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_with",
    "guide_model",
    "load",
    "load_state",
    "registered_classes",
    "remove_stale_temporaries",
    "save",
    "save_state",
    "serializable",
]
