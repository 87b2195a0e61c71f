"""The repository keeps its promises: an example per experiment, a README line per experiment."""

from pathlib import Path

import pytest

from bayesdl.experiments import list_experiments

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiment_has_an_example_script(name):
    script = ROOT / "examples" / (name.replace("-", "_") + ".py")
    assert script.is_file(), f"missing {script}"
    text = script.read_text()
    assert f'"{name}"' in text and "run_experiment" in text


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiment_has_a_line_in_the_readme_results_table(name):
    readme = (ROOT / "README.md").read_text()
    assert f"| `{name}` |" in readme, f"README results table has no row for {name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
