"""Smoke runs of the RBM experiments: every file is written and every metric is finite."""

from __future__ import annotations

import json

import pytest
from stats_testing import z_bound

from bayesdl.experiments import list_experiments


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize("name", ["rbm-digits", "rbm-fashion"])
def test_experiment_smoke(name, smoke_run):
    assert name in list_experiments()
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    for png in ("filters", "gibbs_chains_pcd", "gibbs_chains_cd1", "test_log_likelihood", "monitors"):
        assert (result.out_dir / f"{png}.png").is_file()
    assert (result.out_dir / "report.html").is_file()
    assert set(metrics["ordering_best_first"]) == set(metrics["models"])
    for scores in metrics["models"].values():
        assert scores["test_log_likelihood"] < 0
    if name == "rbm-digits":
        check = metrics["ais_check"]
        # AIS against the exact log Z: within z = 4.42 of its reported standard error (false-failure rate 1e-5)
        assert abs(check["ais_error"]) <= z_bound() * check["ais_log_z_std_err"] + 1e-9, check
    assert list_experiments()["rbm-digits"].demo and not list_experiments()["rbm-fashion"].demo
