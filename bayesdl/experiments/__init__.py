"""Runnable experiments, one per module; see :mod:`bayesdl.experiments.registry`.

The registry's names are imported on first use, so that ``bayesdl.experiments.catalog`` (read by
``bayesdl list``) can be imported without torch.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Experiment",
    "RunContext",
    "RunResult",
    "experiment",
    "get_experiment",
    "list_experiments",
    "run_experiment",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
