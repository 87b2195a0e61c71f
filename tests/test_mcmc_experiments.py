"""Smoke runs of the MCMC experiments: every file is written and the metrics are finite."""

import json

import pytest


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize(
    "name, figures",
    [
        ("mcmc-eight-schools", ["trace_rank", "forest", "energy", "centred_pair_divergences"]),
        ("mcmc-logistic", ["forest", "energy", "separation", "calibration"]),
        ("mcmc-bnn", ["predictive_bands", "epistemic_sd"]),
    ],
)
def test_experiment_smoke(name, figures, smoke_run):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert metrics  # finiteness: tests/test_experiments.py
    assert (result.out_dir / "report.html").exists()
    for fig in figures:
        assert (result.out_dir / f"{fig}.png").exists(), fig


@pytest.mark.xdist_group("experiments")
def test_mcmc_bnn_compares_hmc_with_bbb_and_mc_dropout(smoke_run):
    metrics = json.loads((smoke_run("mcmc-bnn").out_dir / "metrics.json").read_text())
    for method in ("hmc", "bbb", "mc_dropout"):
        scores = metrics[method]
        assert set(scores) == {
            "test_nll",
            "test_nll_se",
            "rmse",
            "coverage_95",
            "epistemic_sd_in_gap",
            "epistemic_sd_near_data",
        }
        assert 0.0 <= scores["coverage_95"] <= 1.0 and scores["rmse"] > 0
        assert scores["epistemic_sd_in_gap"] > 0 and scores["epistemic_sd_near_data"] > 0
    # HMC over the shared Pyro BNN: 1-5-1 tanh net has 16 weights, plus the noise sd.
    assert metrics["hmc_diagnostics"]["num_parameters"] == 17
    # Even the tiny seeded run shows the epistemic sd growing in the gap, where there is no data.
    assert metrics["hmc"]["epistemic_sd_in_gap"] > 2 * metrics["hmc"]["epistemic_sd_near_data"]
