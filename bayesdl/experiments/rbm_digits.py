"""``rbm-digits``: CD-1 against PCD on the binarised 8x8 digits, scored by AIS (checked against exact log Z)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data import load_digits
from . import _rbm_helpers as rbm
from .registry import RunContext, experiment
from .settings import RunSize


@dataclass(frozen=True)
class RbmDigitsSettings(rbm.RbmSettings):
    """Settings of ``rbm-digits``; see :class:`RbmSettings`.

    Attributes:
        check_hidden: hidden units of the small PCD model on which AIS is checked against the exact log Z (<= 20).
    """

    check_hidden: int = 20

    @classmethod
    def preset(cls, size: RunSize) -> RbmDigitsSettings:
        """The settings of a smoke, quick or full run."""
        return {
            "smoke": cls(hidden=16, epochs=2, ais_chains=20, ais_betas=200, gibbs_steps=20, check_hidden=8),
            "quick": cls(epochs=40, ais_betas=4000),
            "full": cls(),
        }[size]


@experiment(
    "rbm-digits",
    "RBMs on binarised 8x8 digits: CD-1 vs PCD, filters, Gibbs chains, AIS test log-likelihood",
    demo=True,
    config=RbmDigitsSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    cfg: RbmDigitsSettings = ctx.config
    x_train, x_test = rbm.binarised_splits(load_digits, cfg, ctx.seed)
    chains, betas, check_hidden = cfg.ais_chains, cfg.ais_betas, cfg.check_hidden
    models, histories, scores = rbm.train_and_score(
        ctx,
        cfg,
        x_train,
        x_test,
        (("CD-1", "cd", 1), ("PCD", "pcd", 1)),
        monitor=x_train,
        score_train=x_train,
    )

    # Check AIS on a model small enough to enumerate: the same training, fewer hidden units.
    small, _, _ = rbm.train_rbm(ctx, x_train, num_hidden=check_hidden, method="pcd", k=1, **cfg.training())
    exact = small.log_partition("exact").log_z
    ais = small.log_partition(
        "ais",
        num_chains=chains,
        num_betas=betas,
        seed=ctx.seed,
        progress=ctx.progress_label(f"AIS check against exact log Z ({check_hidden} hidden units)"),
    )
    check = {
        "hidden_units": check_hidden,
        "exact_log_z": exact,
        "ais_log_z": ais.log_z,
        "ais_log_z_std_err": ais.log_z_std_err,
        "ais_error": ais.log_z - exact,
    }

    rbm.plot_filters(ctx, models, side=8, count=30, name="filters")
    rbm.plot_chains(
        ctx,
        models["PCD"],
        side=8,
        num_chains=6,
        num_steps=cfg.gibbs_steps,
        label="PCD",
        name="gibbs_chains_pcd",
    )
    rbm.plot_chains(
        ctx,
        models["CD-1"],
        side=8,
        num_chains=6,
        num_steps=cfg.gibbs_steps,
        label="CD-1",
        name="gibbs_chains_cd1",
    )
    rbm.plot_log_likelihoods(
        ctx,
        scores,
        "test_log_likelihood",
        f"binarised digits, {cfg.hidden} hidden units: test log-likelihood",
    )
    rbm.plot_monitors(ctx, histories, "monitors")

    order = sorted(scores, key=lambda k: -scores[k]["test_log_likelihood"])
    rbm.report_rbm_scores(ctx, scores)
    ctx.note(
        f"Test log-likelihoods are estimates: log Z comes from AIS ({chains} chains, {betas} inverse "
        "temperatures, base-rate start; Salakhutdinov & Murray 2008). AIS tends to underestimate log Z, "
        "so these numbers lean optimistic; the error bars show 3 sigma of log Z and 2 SEM over test images."
    )
    ctx.note(f"Ordering found (best first): {' > '.join(order)}.")
    ctx.note(
        f"AIS check on a {check_hidden}-hidden-unit PCD model: exact log Z = {exact:.3f}, AIS = {ais.log_z:.3f} "
        f"+/- {ais.log_z_std_err:.3f}."
    )
    ctx.note("Reconstruction error and pseudo-log-likelihood are training monitors only, not likelihoods.")
    return {
        "models": scores,
        "ordering_best_first": order,
        "ais_check": check,
        "settings": {
            "hidden_units": cfg.hidden,
            **cfg.training(),
            "lr_schedule": "cosine",
            "num_train": len(x_train),
            "num_test": len(x_test),
        },
    }
