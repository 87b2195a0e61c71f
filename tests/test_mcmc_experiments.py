"""Smoke runs of the MCMC experiments: every file is written and the metrics are finite."""

import json
import math

import pytest


def _finite(value):
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, float):
        return math.isfinite(value)
    return True


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize("name, figures", [
    ("mcmc-eight-schools", ["trace_rank", "forest", "energy", "centred_pair_divergences"]),
    ("mcmc-logistic", ["forest", "energy", "ppc", "loo_pit"]),
    ("mcmc-bnn", ["predictive_bands"]),
])
def test_experiment_smoke(name, figures, smoke_run):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert _finite(metrics) and metrics
    assert (result.out_dir / "report.html").exists()
    for fig in figures:
        assert (result.out_dir / f"{fig}.png").exists(), fig
