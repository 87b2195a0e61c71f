"""Smoke runs of the flow experiments: every file is written and every metric is finite."""

from __future__ import annotations

import json
import math

import pytest

from bayesdl.experiments.registry import list_experiments


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize(
    "name, figures",
    [
        ("flow-2d", ["densities.png", "samples.png"]),
        ("flow-digits", ["samples_maf.png", "samples_realnvp.png", "test_images.png"]),
        ("flow-fashion", ["samples.png", "test_images.png"]),
    ],
)
def test_experiment_smoke(smoke_run, name, figures):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert metrics == result.metrics  # finiteness: tests/test_experiments.py
    for fig in figures + ["report.html"]:
        assert (result.out_dir / fig).stat().st_size > 0, fig
    if name == "flow-2d":
        assert set(metrics["test_nll"]) == {"two_moons", "eight_gaussians", "checkerboard", "rings"}
        assert all(set(v) == {"realnvp", "maf", "planar"} for v in metrics["test_nll"].values())
    else:
        for block in [metrics] if name == "flow-fashion" else [metrics["maf"], metrics["realnvp"]]:
            assert block["test_bits_per_dim"] > 0
            assert block["test_bits_per_dim"] == pytest.approx(
                block["test_nll_nats"] / (math.log(2) * (64 if name == "flow-digits" else 784))
            )


def test_flow_experiments_are_registered_with_the_right_demo_flag():
    experiments = list_experiments()
    assert (
        experiments["flow-digits"].demo
        and not experiments["flow-2d"].demo
        and not experiments["flow-fashion"].demo
    )
