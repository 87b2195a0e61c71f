"""Runnable experiments, one per module; see :mod:`bayesdl.experiments.registry`."""

from .registry import (
    Experiment,
    RunContext,
    RunResult,
    experiment,
    get_experiment,
    list_experiments,
    run_experiment,
)

__all__ = ["Experiment", "RunContext", "RunResult", "experiment", "get_experiment", "list_experiments", "run_experiment"]
