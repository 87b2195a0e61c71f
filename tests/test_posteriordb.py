"""bayesdl's NUTS against posteriordb reference posteriors (Stan's NUTS, 10 x 1000 draws), on a fast subset.

The whole set runs in ``benchmarks/bench_posteriordb.py``. Tolerance: every posterior mean and sd must
lie within z combined Monte Carlo standard errors of the reference (sqrt(mcse_bayesdl^2 + mcse_ref^2),
bayesdl's from its own split ESS), with z set by Bonferroni so that the chance of a false failure over
all 2 x K quantities of a posterior is below 1e-4 (z = 4.37 for K = 4, 4.56 for K = 10). R-hat (rank
normalised) must be below 1.01, and divergences are printed and must stay under 1% of the draws.
"""

import pyro
import pytest

from bayesdl.inference.mcmc import sample_posterior
from bayesdl.inference.mcmc.reference_check import compare_to_reference, reference_draws
from bayesdl.models.posteriordb import POSTERIORDB_NAMES, load_posteriordb

#: posterior -> extra sampler options (the suite keeps one; the benchmark runs all nine)
FAST_SUBSET = {
    "eight_schools-eight_schools_noncentered": {},
}


def test_every_translation_has_the_reference_parameters():
    assert len(POSTERIORDB_NAMES) == 9
    for name in POSTERIORDB_NAMES:
        post = load_posteriordb(name)
        trace = pyro.poutine.trace(post.model).get_trace(*post.args)
        values = {
            n: site["value"].unsqueeze(0).unsqueeze(0)
            for n, site in trace.nodes.items()
            if site["type"] == "sample"
        }
        for parameter in post.reference:
            assert reference_draws(values, parameter).shape == (1, 1), (name, parameter)
        assert "model {" in post.stan_model or "model{" in post.stan_model


@pytest.mark.parametrize("name", sorted(FAST_SUBSET))
def test_nuts_matches_posteriordb_reference(name):
    case = load_posteriordb(name)
    post = sample_posterior(
        case.model,
        *case.args,
        num_chains=4,
        num_warmup=500,
        num_samples=500,
        seed=0,
        progress=False,
        **FAST_SUBSET[name],
    )
    divergences = int(post.sample_stats["diverging"].sum())
    result = compare_to_reference(post.samples, case.reference, false_failure=1e-4, divergences=divergences)
    print(f"\n{name}\n{result.table()}")
    assert result.passed, result.failures
    assert result.max_r_hat < 1.01
    assert divergences < 0.01 * post.num_chains * post.num_draws
