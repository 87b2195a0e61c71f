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
            _SMOKE_RUNS[name] = run_experiment(
                name, smoke=True, out=tmp_path_factory.mktemp(name), device="cpu"
            )
        return _SMOKE_RUNS[name]

    return run


SEED_ENV = "BAYESDL_TEST_SEED"


@pytest.fixture
def seed():
    """``seed(default)``: the seed a stochastic test uses; ``default`` unless BAYESDL_TEST_SEED is set.

    Without the environment variable every test keeps its own fixed seed. With it (as in
    ``scripts/seed_sweep.py``), each test gets a seed derived from the sweep seed and its default, so
    one sweep seed moves every test (and every seeded call within a test) to a fresh random path.
    Tests that use this fixture are marked ``stochastic`` automatically.
    """
    sweep = os.environ.get(SEED_ENV)

    def pick(default: int) -> int:
        if sweep is None or sweep == "":
            return default
        return (int(sweep) * 1_000_003 + default * 7919 + 12345) % (2**31 - 1)

    return pick


def pytest_collection_modifyitems(config, items):
    """Mark every test that takes the ``seed`` fixture as ``stochastic`` (selected by ``-m stochastic``)."""
    for item in items:
        if "seed" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stochastic)
