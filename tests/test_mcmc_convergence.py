"""bayesdl's rank-normalised R-hat, ESS and MCSE agree with ArviZ's; the reference check's threshold is Bonferroni's."""

import arviz as az
import numpy as np
import pytest
import torch
from scipy import stats

from bayesdl.errors import InputError
from bayesdl.inference.mcmc.convergence import convergence_summary
from bayesdl.inference.mcmc.reference_check import compare_to_reference, reference_draws


def _ar1_draws(seed: int, chains: int = 4, draws: int = 601, dims: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((chains, draws, dims))
    noise = rng.standard_t(4, size=x.shape)
    for n in range(1, draws):
        x[:, n] = 0.8 * x[:, n - 1] + noise[:, n]
    x[0] += 0.5  # one shifted chain, so R-hat is visibly above 1
    return x


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_arviz_to_rounding(seed):
    x = _ar1_draws(seed)
    ours = convergence_summary(x)
    theirs = az.summary(az.convert_to_dataset(x), kind="all", round_to="none")
    for name in ("mean", "sd", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail"):
        np.testing.assert_allclose(getattr(ours, name), theirs[name].to_numpy(), rtol=1e-10, err_msg=name)
    # az.rhat folds the split chains about their median, as bayesdl does (az.summary folds about the
    # median before splitting, which differs when the number of draws is odd)
    rhat = az.rhat(az.convert_to_dataset(x), method="rank")["x"].to_numpy()
    np.testing.assert_allclose(ours.r_hat, rhat, rtol=1e-10)


def test_reference_check_threshold_and_failures():
    draws = torch.randn(4, 500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = {f"x[{i}]": {"mean": 0.0, "sd": 1.0, "mcse_mean": 0.01, "mcse_sd": 0.01} for i in (1, 2)}
    result = compare_to_reference({"x": draws}, ref, false_failure=1e-4, divergences=3)
    # 2 parameters x (mean, sd) = 4 two-sided tests at 1e-4 / 4 each
    assert result.threshold == pytest.approx(stats.norm.isf(1e-4 / 8))
    assert result.passed and result.divergences == 3 and "x[2]" in result.table()
    shifted = dict(ref, **{"x[2]": {"mean": 0.5, "sd": 1.0, "mcse_mean": 0.01, "mcse_sd": 0.01}})
    assert compare_to_reference({"x": draws}, shifted).failures == ["x[2] mean"]
    assert torch.equal(reference_draws({"x": draws}, "x[2]"), draws[..., 1])
    with pytest.raises(InputError, match="no site 'y'"):
        compare_to_reference({"x": draws}, {"y": ref["x[1]"]})
