"""The repository keeps its promises: an example per experiment, a README line per experiment."""

from pathlib import Path

import pytest

from bayesdl.experiments import list_experiments

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiment_has_an_example_script(name):
    script = ROOT / "examples" / (name.replace("-", "_") + ".py")
    assert script.is_file(), f"missing {script}"


@pytest.mark.parametrize(
    "script",
    sorted(p for p in (ROOT / "examples").glob("*.py") if "def main(" in p.read_text()),
    ids=lambda p: p.stem,
)
def test_examples_are_self_contained(script):
    """An example builds its model and Trainer itself (the registry is for `bayesdl run`) and takes arguments."""
    text = script.read_text()
    assert "run_experiment" not in text and "bayesdl.experiments" not in text
    assert "make_parser(" in text and 'matplotlib.use("Agg")' in text


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiment_has_a_line_in_the_readme_results_table(name):
    readme = (ROOT / "README.md").read_text()
    assert f"| `{name}` |" in readme, f"README results table has no row for {name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
