import json
import math
import subprocess
import sys

from bayesdl.cli import main
from bayesdl.experiments import list_experiments
from bayesdl.experiments.registry import fresh_run_dir


def test_list_shows_every_experiment_with_a_description(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, exp in list_experiments().items():
        assert name in out and exp.description in out
    assert "svi-logistic" in out


def test_run_smoke_writes_metrics_figures_and_report(tmp_path, capsys):
    assert main(["run", "svi-logistic", "--smoke", "--out", str(tmp_path), "--device", "cpu"]) == 0
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert str(run_dir) in capsys.readouterr().out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and math.isfinite(metrics["test_nll"])
    assert {"elbo.png", "weights.png", "report.html", "run.json"} <= {p.name for p in run_dir.iterdir()}
    report = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in report and "test_accuracy" in report


def test_each_run_gets_a_fresh_folder(tmp_path):
    folders = [fresh_run_dir(tmp_path, "svi-logistic") for _ in range(3)]
    assert len(set(folders)) == 3 and all(f.is_dir() and not any(f.iterdir()) for f in folders)


def test_errors_are_one_line_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bayesdl", "run", "no-such-experiment", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("bayesdl: error:")]
    assert len(lines) == 1 and "unknown experiment" in lines[0]


def test_debug_flag_shows_the_exception(tmp_path):
    try:
        main(["--debug", "run", "no-such-experiment", "--out", str(tmp_path)])
    except ValueError as err:
        assert "unknown experiment" in str(err)
    else:
        raise AssertionError("--debug should re-raise the error")
