"""Smoke runs of the diffusion experiments: every file is written and every metric is finite."""

import json

import pytest

from bayesdl.experiments.registry import list_experiments


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize(
    "name,figures",
    [
        ("diffusion-2d", ["samples_two_moons.png", "reverse_two_moons.png"]),
        ("diffusion-digits", ["samples.png", "bound_terms.png"]),
        ("diffusion-fashion", ["samples_ancestral.png", "samples_ddim50.png", "bound_terms.png"]),
    ],
)
def test_smoke_run_writes_everything(smoke_run, name, figures):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert metrics  # finiteness: tests/test_experiments.py
    assert (result.out_dir / "report.html").is_file()
    for figure in figures:
        assert (result.out_dir / figure).stat().st_size > 0


def test_only_the_digits_experiment_is_a_demo():
    experiments = list_experiments()
    assert experiments["diffusion-digits"].demo
    assert not experiments["diffusion-2d"].demo and not experiments["diffusion-fashion"].demo
