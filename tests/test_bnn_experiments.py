import json

import pytest


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize(
    "name,figures",
    [
        ("bnn-regression", ["regression_bands.png", "epistemic_sd.png"]),
        ("bnn-classification", ["reliability_digits.png", "ood_entropy_digits.png"]),
    ],
)
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


def test_rotated_digits_put_ink_on_pixels_blank_in_training():
    # Why rotated digits can score an OOD AUROC below 0.5 (see the bnn-classification note): rotation moves
    # ink onto the border columns that are blank in training, the test set does not.
    from bayesdl.data import load_digits
    from bayesdl.experiments.bnn_classification import _rotated, blank_pixel_ink

    x, _ = load_digits("train")
    xt, _ = load_digits("test")
    assert blank_pixel_ink(x, xt) < 0.005
    assert blank_pixel_ink(x, _rotated(xt)) > 0.15
