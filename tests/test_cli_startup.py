"""``bayesdl --help``, ``--version`` and ``list`` start without importing torch, Pyro, ArviZ or matplotlib."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "pyro", "arviz", "matplotlib", "gpytorch", "scipy", "sklearn")


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["--version"], ["run", "--help"]])
def test_help_list_and_version_import_no_heavy_library(argv):
    code = (
        f"import sys\nfrom bayesdl.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "LOADED []"


def test_the_import_time_of_the_cli_is_small_next_to_torch():
    # -X importtime lists every module imported; none of the heavy libraries may appear
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import bayesdl.cli, bayesdl.experiments.catalog"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
