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
    report = (result.out_dir / "report.html").read_text()
    assert "<img" in report
    # every experiment declares its headline explicitly, with a unit and a direction, and the report shows it
    heads = [m for m in result.reported if m.headline]
    assert heads, f"{name} declares no headline metric"
    assert all(m.better in ("lower", "higher", "none") and isinstance(m.unit, str) for m in result.reported)
    assert 'class="headline"' in report
    if any(m.method for m in result.reported):
        assert 'class="comparison"' in report
    # the runner copies every warning into the report's notes: bayesdl's own code calls no deprecated bayesdl
    # spelling, and hands matplotlib arrays, not tensors (whose __array__ lacks NumPy 2's copy keyword)
    assert "is deprecated; use" not in report
    assert "__array__ implementation" not in report


def test_importing_every_experiment_and_plot_module_keeps_the_matplotlib_backend():
    import subprocess
    import sys

    code = (
        "import matplotlib\nmatplotlib.use('svg')\nimport bayesdl.diagnostics.arviz_plots, bayesdl.diagnostics.uncertainty_plots\n"
        "from bayesdl.experiments import list_experiments\nlist_experiments()\nprint(matplotlib.get_backend())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in __import__("os").environ.items() if k != "MPLBACKEND"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "svg"
