"""Smoke runs of the GP experiments, and checks of their data helpers (metrics are tested in test_metrics.py)."""

from __future__ import annotations

import json

import pytest
import torch

from bayesdl.experiments.gp_classification import shifted_digits
from bayesdl.experiments.gp_regression import co2_split


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize(
    "name,figures",
    [
        ("gp-regression", ["bands_heteroscedastic", "bands_gap", "bands_co2"]),
        ("gp-classification", ["calibration_and_ood", "shifted_digits"]),
    ],
)
def test_experiment_smoke(name, figures, smoke_run):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert metrics  # finiteness: tests/test_experiments.py
    assert (result.out_dir / "report.html").is_file()
    for fig in figures:
        assert (result.out_dir / f"{fig}.png").stat().st_size > 1000


def test_shifted_digits_and_co2_split():
    x = torch.rand(5, 64)
    shifted = shifted_digits(x, noise_std=0.0)
    torch.testing.assert_close(torch.rot90(shifted.reshape(5, 8, 8), k=-1, dims=(1, 2)).reshape(5, 64), x)
    split = co2_split(seed=0)
    assert len(split.y_train) + len(split.y_test) == 521
    assert abs(float(split.y_train.mean())) < 1e-4 and float(split.y_train.std()) == pytest.approx(
        1.0, abs=1e-4
    )
    back = split.original_y(split.x_test, split.y_test)
    assert 310 < float(back.min()) and float(back.max()) < 380  # ppm
