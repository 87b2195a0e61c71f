"""Every registered experiment runs end to end at smoke size and writes its files with finite metrics."""

import json
import math

import pytest

from bayesdl.experiments import list_experiments


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_experiment_smoke_run_writes_metrics_figures_and_report(name, smoke_run):
    result = smoke_run(name)
    files = {p.name for p in result.out_dir.iterdir()}
    assert {"metrics.json", "report.html", "run.json"} <= files
    assert any(f.endswith(".png") for f in files), f"{name} wrote no figure"
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    numbers = list(_numbers(metrics))
    assert numbers and all(math.isfinite(v) for v in numbers)
    assert "<img" in (result.out_dir / "report.html").read_text()
