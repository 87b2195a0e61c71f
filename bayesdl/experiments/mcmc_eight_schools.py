"""``mcmc-eight-schools``: batched NUTS on the non-centred eight schools model, with the centred funnel for contrast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..diagnostics.arviz_export import arviz_summary, to_inference_data
from ..diagnostics.arviz_plots import plot_energy, plot_forest, plot_pair_divergences, plot_trace
from ..diagnostics.mcmc_summary import describe_mcmc
from ..inference.mcmc import sample_posterior
from ..models.eight_schools import eight_schools_centered, eight_schools_data, eight_schools_noncentered
from .registry import RunContext, experiment
from .settings import NutsSettings, RunSize

#: Posterior mean (sd) of mu and tau under this model, as quoted in the issue (Stan/PyMC reference runs).
REFERENCE = {"mu_mean": 4.4, "mu_sd": 3.3, "tau_mean": 3.6, "tau_sd": 3.2}


@dataclass(frozen=True)
class EightSchoolsSettings(NutsSettings):
    """Settings of ``mcmc-eight-schools``: NUTS chains, warm-up and draws (``--set draws=2000 --set chains=8``).

    Attributes:
        centred_max_tree_depth: NUTS's largest tree depth on the centred model (the funnel).
    """

    centred_max_tree_depth: int = 10

    @classmethod
    def preset(cls, size: RunSize) -> EightSchoolsSettings:
        """The settings of a smoke, quick or full run."""
        return {
            "smoke": cls(2, 40, 40, centred_max_tree_depth=5),
            "quick": cls(4, 500, 500),
            "full": cls(4, 1000, 2000),
        }[size]


@experiment(
    "mcmc-eight-schools",
    "Eight schools (non-centred) by batched-chain NUTS; centred funnel reports divergences",
    config=EightSchoolsSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    y, sigma = eight_schools_data()
    y, sigma = y.to(ctx.device), sigma.to(ctx.device)
    cfg: EightSchoolsSettings = ctx.config
    chains, warmup, draws = cfg.chains, cfg.warmup, cfg.draws
    post = sample_posterior(
        eight_schools_noncentered,
        y,
        sigma,
        num_chains=chains,
        num_warmup=warmup,
        num_samples=draws,
        seed=ctx.seed,
        progress=ctx.progress,
    )
    idata = to_inference_data(post)
    table = arviz_summary(idata, var_names=["mu", "tau"])
    check = describe_mcmc(idata)
    (ctx.out_dir / "summary.txt").write_text(arviz_summary(idata).to_string() + "\n\n" + check.text + "\n")
    ctx.save_figure(
        plot_trace(idata, var_names=["mu", "tau"]),
        "trace_rank",
        "Non-centred: marginal densities and per-chain rank histograms of mu and tau",
    )
    ctx.save_figure(
        plot_forest(idata, var_names=["mu", "tau", "theta"]),
        "forest",
        "Non-centred: 94% HDIs per chain with R-hat and ESS",
    )
    ctx.save_figure(plot_energy(idata), "energy", "Non-centred: energy distribution and transitions (BFMI)")

    centred = sample_posterior(
        eight_schools_centered,
        y,
        sigma,
        num_chains=chains,
        num_warmup=warmup,
        num_samples=draws,
        seed=ctx.seed,
        progress=ctx.progress,
        max_tree_depth=cfg.centred_max_tree_depth,
    )
    centred_idata = to_inference_data(centred)
    centred_check = describe_mcmc(centred_idata)
    ctx.save_figure(
        plot_pair_divergences(centred_idata, var_names=["mu", "tau"]),
        "centred_pair_divergences",
        "Centred: pair plot of mu and tau with divergent transitions marked (the funnel)",
    )
    ctx.note("Non-centred run: " + check.text.replace("\n", " "))
    ctx.note("Centred run (for contrast): " + centred_check.text.replace("\n", " "))
    ctx.note(
        f"Reference posterior: mu {REFERENCE['mu_mean']} (sd {REFERENCE['mu_sd']}), "
        f"tau {REFERENCE['tau_mean']} (sd {REFERENCE['tau_sd']})."
    )
    for label, result in (("non-centred", check), ("centred", centred_check)):
        ctx.report_metric("divergences", result.divergences, "transitions", "lower", method=label)
        ctx.report_metric("max R-hat", result.max_rhat, "", "lower", method=label)
        ctx.report_metric(
            "min bulk ESS", result.min_ess_bulk, "draws", "higher", method=label, headline=False
        )
    for site in ("mu", "tau"):
        ctx.report_metric(
            f"posterior mean of {site} (non-centred)",
            float(table.loc[site, "mean"]),
            "",
            "none",
            se=float(table.loc[site, "mcse_mean"]),
            headline=site == "tau",
        )
    return {
        "mu_mean": float(table.loc["mu", "mean"]),
        "mu_sd": float(table.loc["mu", "sd"]),
        "tau_mean": float(table.loc["tau", "mean"]),
        "tau_sd": float(table.loc["tau", "sd"]),
        "reference": REFERENCE,
        "max_rhat": check.max_rhat,
        "min_ess_bulk": check.min_ess_bulk,
        "min_ess_tail": check.min_ess_tail,
        "divergences": check.divergences,
        "min_bfmi": check.min_bfmi,
        "centred_divergences": centred_check.divergences,
        "centred_max_rhat": centred_check.max_rhat,
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "seconds_noncentred": post.warmup_seconds + post.sampling_seconds,
    }
