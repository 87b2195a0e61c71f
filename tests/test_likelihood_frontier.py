"""``likelihood-frontier``: every row says what its figure is (exact, estimate or bound), and every figure is finite."""

import math

import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.experiments import run_experiment
from bayesdl.experiments.likelihood_frontier import (
    BINARY_GROUP,
    FAMILIES,
    KINDS,
    LEVELS_GROUP,
    DequantizedToUnitBox,
    frontier_row,
)
from bayesdl.results import bits_per_dim

EXPECTED_KIND = {
    "MADE": "exact",
    "NADE": "exact",
    "PixelCNN (Bernoulli)": "exact",
    "PixelCNN (17-way softmax)": "exact",
    "RBM (PCD-1)": "estimate",
}


@pytest.mark.xdist_group("experiments")
def test_every_row_is_labelled_and_finite(smoke_run):
    result = smoke_run("likelihood-frontier")
    rows = result.metrics["rows"]
    assert len(rows) == len(FAMILIES)  # one row per family, none dropped
    assert {r["group"] for r in rows} == {LEVELS_GROUP, BINARY_GROUP}
    for r in rows:
        assert r["kind"] in KINDS, r
        assert r["kind"] == EXPECTED_KIND.get(r["model"], "bound"), (
            r
        )  # the flows, VAEs, DDPM and ODE models are bounds
        assert math.isfinite(r["value"]) and math.isfinite(r["se"]) and r["se"] > 0, r
        assert r["estimator_se"] is None or (math.isfinite(r["estimator_se"]) and r["estimator_se"] >= 0), r
        assert r["parameters"] > 0 and r["train_seconds"] >= 0 and r["sample_seconds_per_image"] > 0, r
        assert 0 < r["value"] < (100 if r["group"] == LEVELS_GROUP else 1000), r
    # the declared headline metrics carry the same bound labels, and the run folder has the table
    heads = {m.method: m for m in result.reported if m.headline}
    assert all((heads[r["model"]].bound == "upper") == (r["kind"] == "bound") for r in rows)
    table = (result.out_dir / "frontier.md").read_text()
    assert all(f"| {r['model']} |" in table and f"| {r['kind']} |" in table for r in rows)


def test_a_row_of_unknown_kind_and_an_unknown_family_are_refused(tmp_path):
    with pytest.raises(InputError, match="kind must be one of"):
        frontier_row(
            "g",
            "m",
            1.0,
            0.1,
            "approximate",
            "",
            parameters=1,
            train_seconds=0.0,
            sample_seconds=0.0,
            test_images=1,
        )
    with pytest.raises(InputError, match="unknown: \\['glow'\\]"):
        run_experiment(
            "likelihood-frontier", smoke=True, out=tmp_path, device="cpu", overrides={"families": "maf,glow"}
        )


def test_the_unit_box_dequantisation_gives_the_uniform_model_log2_of_the_levels(seed):
    """x = 2 (k + v)/K - 1 puts level k in its own bin of width 2/K, and the uniform density on [-1, 1]^D, put through
    the conversion the ODE rows use, scores exactly log2 K bits/dim: the preprocessing's log-det is counted once."""
    levels = torch.arange(17.0).repeat(3, 1)  # every level, D = 17
    x = DequantizedToUnitBox(torch.nn.Identity(), 17).dequantize(
        levels, torch.Generator().manual_seed(seed(0))
    )
    low = 2 * levels / 17 - 1
    assert bool(((x >= low) & (x < low + 2 / 17)).all())
    uniform = torch.full((3,), -17 * math.log(2.0))  # log of the density 2^-D on [-1, 1]^D
    bpd = bits_per_dim(uniform, 17, num_levels=17, log_det_preprocess=17 * math.log(2.0))
    assert torch.allclose(bpd, torch.full((3,), math.log2(17)), atol=1e-6)
