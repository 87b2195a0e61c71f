import json
import math
import subprocess
import sys

import pytest

from bayesdl.cli import main
from bayesdl.errors import InputError
from bayesdl.experiments import list_experiments
from bayesdl.experiments.catalog import read_catalog
from bayesdl.experiments.registry import fresh_run_dir, run_experiment


def test_list_shows_every_experiment_with_a_description(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, exp in list_experiments().items():
        assert name in out and exp.description in out
    assert "svi-logistic" in out


def test_catalog_matches_the_registry_exactly():
    # `bayesdl list` parses the decorators instead of importing the experiments (and torch)
    registered = {name: (exp.description, exp.demo) for name, exp in list_experiments().items()}
    assert read_catalog() == registered


def test_version_is_the_packages_version(capsys):
    import bayesdl

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"bayesdl {bayesdl.__version__}"


def test_run_smoke_writes_metrics_figures_and_report(tmp_path, capsys):
    assert main(["run", "svi-logistic", "--smoke", "--out", str(tmp_path), "--device", "cpu"]) == 0
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    out = capsys.readouterr().out
    assert str(run_dir) in out and "test accuracy [%]" in out and "test NLL [nats/example]" in out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and math.isfinite(metrics["test_nll"])
    assert {"elbo.png", "weights.png", "report.html", "run.json"} <= {p.name for p in run_dir.iterdir()}
    report = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in report and "test accuracy" in report
    info = json.loads((run_dir / "run.json").read_text())
    assert info["command"].startswith("bayesdl run svi-logistic --smoke") and info["seed"] == 0
    assert info["cpu_capability"] and info["bayesdl"] and info["device"] == "cpu"


def test_set_overrides_reach_the_experiment_and_are_recorded(tmp_path):
    assert (
        main(
            [
                "run",
                "svi-logistic",
                "--smoke",
                "--out",
                str(tmp_path),
                "--device",
                "cpu",
                "--set",
                "epochs=2",
                "--set",
                "predictive_samples=4",
            ]
        )
        == 0
    )
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    info = json.loads((run_dir / "run.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert info["settings"]["epochs"] == 2 and metrics["epochs"] == 2 and metrics["predictive_samples"] == 4
    assert info["overrides"] == {"epochs": "2", "predictive_samples": "4"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--set", "epoch=2"], "no setting 'epoch'; valid keys: epochs, lr"),
        (["--set", "epochs=two"], "setting 'epochs' expects int; got 'two'"),
        (["--set", "epochs"], "--set expects KEY=VALUE"),
        (["--seed", "-1"], "seed must be an integer in [0, 2**32)"),
        (["--device", "cuda"], "CUDA is not available"),
    ],
)
def test_a_run_that_fails_at_once_leaves_no_folder(tmp_path, capsys, argv, message):
    if "cuda" in argv:
        import torch

        if torch.cuda.is_available():
            argv = ["--device", f"cuda:{torch.cuda.device_count()}"]
            message = "does not exist"
    out = tmp_path / "runs"
    assert main(["run", "svi-logistic", "--smoke", "--out", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_provenance_is_read_before_the_run_starts(tmp_path, monkeypatch):
    # the commit recorded in run.json is that of the code that ran, not of a checkout edited during a long run
    from bayesdl.experiments import registry

    events = []
    real = registry.provenance

    def recording(*args, **kwargs):
        events.append("provenance")
        return {**real(*args, **kwargs), "git_commit": "commit-at-start"}

    @registry.experiment("test-provenance-order", "records when it runs")
    def run(ctx):
        events.append("run")
        ctx.report_metric("value", 1.0, "", "higher")
        return {"value": 1.0}

    try:
        monkeypatch.setattr(registry, "provenance", recording)
        result = run_experiment("test-provenance-order", out=tmp_path, device="cpu")
        assert events == ["provenance", "run"]
        assert json.loads((result.out_dir / "run.json").read_text())["git_commit"] == "commit-at-start"
    finally:
        del registry._EXPERIMENTS["test-provenance-order"]


def test_a_run_that_fails_inside_removes_only_its_own_empty_folder(tmp_path):
    from bayesdl.experiments.registry import _EXPERIMENTS, experiment

    @experiment("test-fails-at-once", "raises before writing anything")
    def run(ctx):
        raise RuntimeError("boom")

    try:
        (tmp_path / "mine.txt").write_text("user file")
        with pytest.raises(RuntimeError, match="boom"):
            run_experiment("test-fails-at-once", out=tmp_path, device="cpu")
        assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
        with pytest.raises(RuntimeError, match="boom"):  # an out_dir the caller gave is never removed
            run_experiment("test-fails-at-once", out_dir=tmp_path, device="cpu")
        assert (tmp_path / "mine.txt").read_text() == "user file"
    finally:
        del _EXPERIMENTS["test-fails-at-once"]


def test_set_on_an_experiment_without_settings_is_refused():
    from bayesdl.experiments.registry import _EXPERIMENTS, experiment, experiment_config

    @experiment("test-no-settings", "has no settings dataclass")
    def run(ctx):
        return {}

    try:
        with pytest.raises(InputError, match="declares no settings"):
            experiment_config(_EXPERIMENTS["test-no-settings"], "smoke", {"epochs": "3"})
    finally:
        del _EXPERIMENTS["test-no-settings"]


def test_each_run_gets_a_fresh_folder(tmp_path):
    folders = [fresh_run_dir(tmp_path, "svi-logistic") for _ in range(3)]
    assert len(set(folders)) == 3 and all(f.is_dir() and not any(f.iterdir()) for f in folders)


def test_errors_are_one_line_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bayesdl", "run", "no-such-experiment", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("bayesdl: error:")]
    assert len(lines) == 1 and "unknown experiment" in lines[0]
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_flag_shows_the_exception_before_or_after_the_subcommand(tmp_path, where):
    argv = ["run", "no-such-experiment", "--out", str(tmp_path)]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    with pytest.raises(ValueError, match="unknown experiment"):
        main(argv)


def test_progress_defaults_to_whether_stdout_is_a_terminal(monkeypatch, tmp_path):
    seen = []

    def fake_run(name, **kwargs):
        seen.append(kwargs["progress"])
        raise KeyboardInterrupt

    monkeypatch.setattr("bayesdl.experiments.registry.run_experiment", fake_run)
    for tty in (True, False):
        monkeypatch.setattr(sys.stdout, "isatty", lambda tty=tty: tty)
        assert main(["run", "svi-logistic", "--smoke", "--out", str(tmp_path), "--device", "cpu"]) == 130
    assert (
        main(["run", "svi-logistic", "--smoke", "--out", str(tmp_path), "--device", "cpu", "--no-progress"])
        == 130
    )
    assert seen == [True, False, False]


def test_every_settings_dataclass_has_presets_and_takes_nested_overrides():
    from bayesdl.experiments.registry import experiment_config
    from bayesdl.experiments.settings import setting_keys

    with_settings = {name: exp for name, exp in list_experiments().items() if exp.config is not None}
    assert {
        "svi-logistic",
        "bnn-classification",
        "bnn-regression",
        "mcmc-logistic",
        "mcmc-eight-schools",
    } <= set(with_settings)
    for name, exp in with_settings.items():
        for size in ("smoke", "quick", "full"):
            assert isinstance(experiment_config(exp, size), exp.config), (name, size)
        assert setting_keys(experiment_config(exp, "smoke"))
    cfg = experiment_config(
        with_settings["bnn-classification"], "quick", {"model.hidden": "256", "epochs": "5"}
    )
    assert cfg.model.hidden == (256,) and cfg.epochs == 5 and cfg.fashion_model.hidden == (400, 400)
    with pytest.raises(InputError, match="valid keys: .*model.hidden"):
        experiment_config(with_settings["bnn-classification"], "quick", {"model.width": "256"})


def test_warnings_raised_during_a_run_go_to_the_report_notes_not_the_terminal(tmp_path, capsys):
    import warnings

    from bayesdl.experiments.registry import _EXPERIMENTS, experiment

    @experiment("test-warns", "warns twice the same way and once another way")
    def run(ctx):
        for _ in range(2):
            warnings.warn(
                "shape parameter of Pareto distribution is greater than 0.7", UserWarning, stacklevel=1
            )
        warnings.warn("this keyword is deprecated", FutureWarning, stacklevel=1)
        ctx.report_metric("value", 1.0, "", "higher")
        return {"value": 1.0}

    try:
        result = run_experiment("test-warns", out=tmp_path, device="cpu")
    finally:
        del _EXPERIMENTS["test-warns"]
    assert capsys.readouterr().err == ""
    report = (result.out_dir / "report.html").read_text()
    assert "UserWarning" in report and "2 times" in report and "Pareto" in report
    assert "FutureWarning" in report and "deprecated" in report
