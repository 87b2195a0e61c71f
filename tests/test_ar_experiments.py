import json
import math

import pytest

from bayesdl.experiments.registry import list_experiments


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize("name", ["ar-digits", "ar-fashion"])
def test_smoke_run_writes_every_file_with_finite_metrics(name, smoke_run):
    result = smoke_run(name)
    folder = result.out_dir
    for file in [
        "metrics.json",
        "run.json",
        "report.html",
        "samples.png",
        "completions.png",
        "learning_curves.png",
    ]:
        assert (folder / file).is_file(), file
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["ranking"]) == set(metrics["models"])
    for values in metrics["models"].values():
        assert (
            math.isfinite(values["test_nll"]) and values["test_nll"] > 0
        )  # an NLL of binary data is positive
    assert name in list_experiments()
