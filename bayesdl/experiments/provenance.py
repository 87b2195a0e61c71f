"""Where a run came from: the bayesdl version, the git commit of its source, the command, seed, device and CPU.

Every run's ``run.json`` and report carry these, so a figure can be traced to the code and the machine that made it.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any


def bayesdl_version() -> str:
    """The bayesdl version, from ``bayesdl/_version.py``: the one place it is written, which the package metadata
    (``pyproject.toml``) also reads; reading the file itself stays right in an editable install whose metadata is
    older than the source.

    Example:
        >>> bayesdl_version().count(".") >= 1
        True
    """
    from .._version import __version__

    return __version__


def git_commit(path: str | Path | None = None) -> str | None:
    """The commit of the git checkout holding ``path`` (bayesdl's source by default), with ``+dirty`` for
    uncommitted changes; None when it is not a git checkout or git is missing.

    Example:
        >>> commit = git_commit("/")
        >>> commit is None or len(commit) >= 40
        True
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def provenance(command: str, seed: int, device: Any) -> dict[str, Any]:
    """The provenance fields of a run: version, commit, command, seed, device, CPU capability, torch and Python.

    Arguments:
        command: the exact command that started the run.
        seed: the run's seed.
        device: the torch device it ran on.
    """
    import torch

    return {
        "bayesdl": bayesdl_version(),
        "git_commit": git_commit(),
        "command": command,
        "seed": seed,
        "device": str(device),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
    }
