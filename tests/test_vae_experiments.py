"""Smoke runs of the VAE experiments: every file is written and every metric is finite."""

from __future__ import annotations

import json

import pytest

from bayesdl.experiments import list_experiments


@pytest.mark.xdist_group("experiments")
@pytest.mark.parametrize(
    "name, figures",
    [
        (
            "vae-digits",
            [
                "elbo_curve",
                "elbo_vs_iwae",
                "samples",
                "reconstructions",
                "interpolation",
                "latent_scatter",
                "pixelvae_samples",
            ],
        ),
        ("vae-fashion", ["training_curves", "elbo_vs_loglik", "samples"]),
    ],
)
def test_experiment_smoke(name, figures, smoke_run):
    result = smoke_run(name)
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    for fig in figures:
        assert (result.out_dir / f"{fig}.png").stat().st_size > 1000
    assert (result.out_dir / "report.html").exists()
    if name == "vae-digits":
        # the importance-sampled estimate is at least the ELBO (up to noise) and grows with K
        ll = metrics["log_likelihood"]
        assert ll["K=100"]["mean"] > metrics["test_elbo_bound"] - 0.5
        assert list_experiments()[name].demo
        pixel = metrics["pixelvae"]
        assert set(pixel) == {"free_bits_0", "free_bits_0.5"}
        assert all(v["test_kl_per_example"] >= 0 for v in pixel.values())
        assert (
            metrics["iaf_posterior"]["test_log_likelihood"]
            > metrics["iaf_posterior"]["test_elbo_bound"] - 0.5
        )
    else:
        assert set(metrics["models"]) == {"vae", "iwae5", "iaf_posterior", "vampprior"}
