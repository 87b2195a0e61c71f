"""Shared test settings: quiet warnings from dependencies and a deterministic torch."""

import os
import warnings

import torch

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=FutureWarning)
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


import pytest  # noqa: E402

from bayesdl.experiments import run_experiment  # noqa: E402

_SMOKE_RUNS: dict = {}


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Run an experiment at smoke size once per test process and share the result.

    Tests that use it carry ``@pytest.mark.xdist_group("experiments")`` so that, with
    ``pytest -n 2 --dist loadgroup``, every experiment runs once for the whole suite.
    """

    def run(name: str):
        if name not in _SMOKE_RUNS:
            _SMOKE_RUNS[name] = run_experiment(name, smoke=True, out=tmp_path_factory.mktemp(name), device="cpu")
        return _SMOKE_RUNS[name]

    return run
