"""Smoke runs of the GP experiments, and checks of the metric helpers they define."""

from __future__ import annotations

import json
import math

import pytest
import torch

from bayesdl.experiments.gp_classification import auroc, expected_calibration_error, shifted_digits
from bayesdl.experiments.gp_regression import co2_split, gaussian_crps, interval_coverage


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize("name,figures", [("gp-regression", ["bands_heteroscedastic", "bands_gap", "bands_co2"]),
                                          ("gp-classification", ["calibration_and_ood", "shifted_digits"])])
def test_experiment_smoke(name, figures, smoke_run):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert metrics and _finite(metrics)
    assert (result.out_dir / "report.html").is_file()
    for fig in figures:
        assert (result.out_dir / f"{fig}.png").stat().st_size > 1000


def test_gaussian_crps_matches_numerical_integral():
    mean, var, y = torch.tensor([0.3]), torch.tensor([0.49]), torch.tensor([1.1])
    t = torch.linspace(-12, 12, 200001, dtype=torch.float64)
    cdf = torch.distributions.Normal(0.3, 0.7).cdf(t)
    integrand = (cdf - (t >= 1.1).double()) ** 2
    numeric = float(torch.trapezoid(integrand, t))
    assert gaussian_crps(mean, var, y) == pytest.approx(numeric, rel=1e-4)


def test_coverage_ece_auroc_on_known_cases():
    mean, var = torch.zeros(4), torch.ones(4)
    assert interval_coverage(mean, var, torch.tensor([0.0, 1.9, -1.9, 2.1])) == 0.75
    probs = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    labels = torch.tensor([0, 1, 0, 0])
    # bin 0.9: accuracy 0.5, bin 0.6: accuracy 1.0 -> ECE = 0.5 * 0.4 + 0.5 * 0.4
    assert expected_calibration_error(probs, labels) == pytest.approx(0.4)
    assert auroc(torch.tensor([0.1, 0.2]), torch.tensor([0.3, 0.4])) == 1.0
    assert auroc(torch.tensor([0.1, 0.4]), torch.tensor([0.3, 0.2])) == 0.5


def test_shifted_digits_and_co2_split():
    x = torch.rand(5, 64)
    shifted = shifted_digits(x, noise_std=0.0)
    torch.testing.assert_close(torch.rot90(shifted.reshape(5, 8, 8), k=-1, dims=(1, 2)).reshape(5, 64), x)
    split = co2_split(seed=0)
    assert len(split.y_train) + len(split.y_test) == 521
    assert abs(float(split.y_train.mean())) < 1e-4 and float(split.y_train.std()) == pytest.approx(1.0, abs=1e-4)
    back = split.original_y(split.x_test, split.y_test)
    assert 310 < float(back.min()) and float(back.max()) < 380  # ppm
