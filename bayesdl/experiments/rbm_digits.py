"""``rbm-digits``: CD-1 against PCD on the binarised 8x8 digits, scored by AIS (checked against exact log Z)."""

from __future__ import annotations

from typing import Any

from ..data import load_digits
from ._rbm_helpers import (
    plot_chains,
    plot_filters,
    plot_log_likelihoods,
    plot_monitors,
    report_rbm_scores,
    score_rbm,
    train_rbm,
)
from .registry import RunContext, experiment


@experiment("rbm-digits", "RBMs on binarised 8x8 digits: CD-1 vs PCD, filters, Gibbs chains, AIS test log-likelihood", demo=True)
def run(ctx: RunContext) -> dict[str, Any]:
    x_train, _ = load_digits("train", binarize="static", seed=ctx.seed)
    x_test, _ = load_digits("test", binarize="static", seed=ctx.seed + 1)
    if ctx.smoke:
        hidden, epochs, chains, betas, check_hidden = 16, 2, 20, 200, 8
    elif ctx.quick:
        hidden, epochs, chains, betas, check_hidden = 100, 40, 100, 4000, 20
    else:
        hidden, epochs, chains, betas, check_hidden = 100, 300, 100, 14500, 20
    settings = dict(epochs=epochs, lr=0.05, batch_size=20, momentum=0.5, weight_decay=1e-4)
    models, histories, scores, seconds = {}, {}, {}, {}
    for label, method in (("CD-1", "cd"), ("PCD", "pcd")):
        rbm, history, secs = train_rbm(ctx, x_train, num_hidden=hidden, method=method, k=1, monitor_data=x_train, **settings)
        models[label], histories[label], seconds[label] = rbm, history, secs
        with ctx.phase(f"AIS log Z and log-likelihoods ({label}, {chains} chains x {betas} temperatures)"):
            scores[label] = score_rbm(rbm, x_train, x_test, num_chains=chains, num_betas=betas, seed=ctx.seed)
        scores[label]["train_seconds"] = secs
        scores[label]["final_monitor_reconstruction_error"] = history.records[-1]["monitor_reconstruction_error"]
        scores[label]["final_monitor_pseudo_log_likelihood"] = history.records[-1]["monitor_pseudo_log_likelihood"]

    # Check AIS on a model small enough to enumerate: the same training, fewer hidden units.
    small, _, _ = train_rbm(ctx, x_train, num_hidden=check_hidden, method="pcd", k=1, **settings)
    exact = small.log_partition("exact").log_z
    with ctx.phase(f"AIS check against exact log Z ({check_hidden} hidden units)"):
        ais = small.log_partition("ais", num_chains=chains, num_betas=betas, seed=ctx.seed)
    check = {"hidden_units": check_hidden, "exact_log_z": exact, "ais_log_z": ais.log_z,
             "ais_log_z_std_err": ais.log_z_std_err, "ais_error": ais.log_z - exact}

    plot_filters(ctx, models, side=8, count=30, name="filters")
    plot_chains(ctx, models["PCD"], side=8, num_chains=6, num_steps=20 if ctx.smoke else 1000, label="PCD", name="gibbs_chains_pcd")
    plot_chains(ctx, models["CD-1"], side=8, num_chains=6, num_steps=20 if ctx.smoke else 1000, label="CD-1", name="gibbs_chains_cd1")
    plot_log_likelihoods(ctx, scores, "test_log_likelihood", f"binarised digits, {hidden} hidden units: test log-likelihood")
    plot_monitors(ctx, histories, "monitors")

    order = sorted(scores, key=lambda k: -scores[k]["test_log_likelihood"])
    report_rbm_scores(ctx, scores)
    ctx.note(f"Test log-likelihoods are estimates: log Z comes from AIS ({chains} chains, {betas} inverse "
             "temperatures, base-rate start; Salakhutdinov & Murray 2008). AIS tends to underestimate log Z, "
             "so these numbers lean optimistic; the error bars show 3 sigma of log Z and 2 SEM over test images.")
    ctx.note(f"Ordering found (best first): {' > '.join(order)}.")
    ctx.note(f"AIS check on a {check_hidden}-hidden-unit PCD model: exact log Z = {exact:.3f}, AIS = {ais.log_z:.3f} "
             f"+/- {ais.log_z_std_err:.3f}.")
    ctx.note("Reconstruction error and pseudo-log-likelihood are training monitors only, not likelihoods.")
    return {
        "models": scores,
        "ordering_best_first": order,
        "ais_check": check,
        "settings": {"hidden_units": hidden, **settings, "lr_schedule": "cosine", "num_train": len(x_train), "num_test": len(x_test)},
    }
