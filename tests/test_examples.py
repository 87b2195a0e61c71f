"""Every script in examples/ runs end to end with its tiny ``--smoke`` settings and writes its figures.

Importing torch, Pyro and ArviZ costs seconds, so each test runs one family's examples in one fresh Python process
(a subprocess: no state leaks into or out of the test session). The groups are balanced for ``pytest -n 2``.
The *_fashion examples read Fashion-MNIST from disk, which ``scripts/setup.sh`` installs.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

GROUPS = {  # about 20 s of CPU each, plus the imports
    "bnn_gp_and_mcmc": [
        "svi_logistic",
        "bnn_regression",
        "bnn_classification",
        "bnn_pyro_vs_fused",
        "gp_regression",
        "gp_classification",
        "mcmc_eight_schools",
        "mcmc_bnn",
        "arviz_compare",
    ],
    "vae_flows_and_diffusion": [
        "vae_digits",
        "vae_fashion",
        "flow_2d",
        "flow_digits",
        "flow_fashion",
        "diffusion_2d",
        "diffusion_digits",
        "diffusion_fashion",
        "diffusion_digits_ablation",
        "guided_diffusion",
    ],
    "autoregressive_rbm_and_logistic": [
        "ar_digits",
        "ar_fashion",
        "rbm_digits",
        "rbm_fashion",
        "mcmc_logistic",
        "fashion_dataloader",
        "continuous_time_2d",
        "bdl_benchmark",
        "likelihood_frontier",
    ],
}
EXTRA_ARGUMENTS = {"diffusion_digits_ablation": ["grid", "deq-cosine-v"]}

# Runs each named example's main(argv) in turn; an exception fails the process with the example's traceback.
RUNNER = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
out = sys.argv[2]
for spec in sys.argv[3:]:
    name, *extra = spec.split(",")
    print("=== example", name, flush=True)
    module = runpy.run_path(f"{sys.argv[1]}/{name}.py", run_name="example")
    module["main"]([*filter(None, extra), "--smoke", "--out", f"{out}/{name}"])
"""


def test_every_example_is_in_exactly_one_group():
    """Every script with a main(argv) is run here, once (a script without one is not an example of this form)."""
    scripts = {
        p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_") and "def main(" in p.read_text()
    }
    grouped = [name for names in GROUPS.values() for name in names]
    assert len(grouped) == len(set(grouped)) and set(grouped) == scripts


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_examples_run_with_smoke_settings(group, tmp_path):
    names = GROUPS[group]
    specs = [",".join([name, *EXTRA_ARGUMENTS.get(name, [])]) for name in names]
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(EXAMPLES), str(tmp_path), *specs],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**_environment(), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, f"{group} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    for name in names:
        figures = list((tmp_path / name).glob("*.png"))
        assert figures, f"{name} wrote no figure into its --out folder"
        assert all(f.stat().st_size > 1000 for f in figures), f"{name} wrote an empty figure"
        assert f"=== example {name}" in result.stdout


def _environment() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env
