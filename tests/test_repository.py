"""The repository keeps its promises: an example per experiment, a README line per experiment."""

from pathlib import Path

import pytest

from bayesdl.experiments import list_experiments

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiment_has_a_self_contained_example_script(name):
    """examples/NAME.py builds its model and Trainer itself (the registry is for `bayesdl run`) and takes arguments."""
    script = ROOT / "examples" / (name.replace("-", "_") + ".py")
    assert script.is_file(), f"missing {script}"
    text = script.read_text()
    assert "run_experiment" not in text and "bayesdl.experiments" not in text
    assert "--smoke" in (ROOT / "examples" / "_common.py").read_text() and "make_parser(" in text
    assert 'matplotlib.use("Agg")' in text


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiment_has_a_line_in_the_readme_results_table(name):
    readme = (ROOT / "README.md").read_text()
    assert f"| `{name}` |" in readme, f"README results table has no row for {name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
