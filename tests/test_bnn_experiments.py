import json

import pytest


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize("name,figures", [
    ("bnn-regression", ["regression_bands.png", "epistemic_sd.png"]),
    ("bnn-classification", ["reliability_digits.png", "ood_entropy_digits.png"]),
])
def test_experiment_smoke_run_writes_everything(smoke_run, name, figures):
    result = smoke_run(name)
    out = result.out_dir
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics  # finiteness: tests/test_experiments.py
    for fig in figures:
        assert (out / fig).is_file()
    assert (out / "report.html").is_file()
    methods = [k for k in metrics if not k.endswith("settings")]
    assert len(methods) >= 8 if name == "bnn-regression" else len(methods) >= 4
