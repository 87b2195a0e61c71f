"""Vendor the posteriordb subset into bayesdl: each posterior's data and a summary of its reference draws.

Reads ``../shared/posteriordb/<name>/{data.json.zip, reference_draws.json.zip, model.stan, posterior.json}``
and writes ``bayesdl/models/posteriordb/data/<name>.json`` with the data, the Stan model text, and per
parameter the reference mean, sd, their Monte Carlo standard errors, bulk and tail ESS and R-hat
(computed from the 10 x 1000 reference draws by bayesdl's rank-normalised diagnostics, which match ArviZ).
The draws themselves are not vendored: the tests need only these summaries.

Run: ``python scripts/vendor_posteriordb.py [SOURCE_DIR]``
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

from bayesdl.inference.mcmc.convergence import convergence_summary

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "bayesdl" / "models" / "posteriordb" / "data"


def _read_zipped_json(path: Path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read(z.namelist()[0]))


def vendor(source: Path) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "LICENCE.md", TARGET.parent / "LICENCE.md")
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        chains = _read_zipped_json(folder / "reference_draws.json.zip")
        names = list(chains[0])
        draws = np.array([[chain[n] for n in names] for chain in chains]).transpose(
            0, 2, 1
        )  # [chain, draw, K]
        s = convergence_summary(draws)
        reference = {
            n: {
                "mean": float(s.mean[i]),
                "sd": float(s.sd[i]),
                "mcse_mean": float(s.mcse_mean[i]),
                "mcse_sd": float(s.mcse_sd[i]),
                "ess_bulk": float(s.ess_bulk[i]),
                "ess_tail": float(s.ess_tail[i]),
                "r_hat": float(s.r_hat[i]),
            }
            for i, n in enumerate(names)
        }
        record = {
            "name": folder.name,
            "posterior": json.loads((folder / "posterior.json").read_text()),
            "stan_model": (folder / "model.stan").read_text(),
            "data": _read_zipped_json(folder / "data.json.zip"),
            "reference": {
                "num_chains": len(chains),
                "num_draws": int(draws.shape[1]),
                "parameters": reference,
            },
        }
        (TARGET / f"{folder.name}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(folder.name, len(names), "parameters")


if __name__ == "__main__":
    vendor(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / "shared" / "posteriordb")
