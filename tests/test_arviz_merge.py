"""Chains sampled in separate processes (e.g. one per GPU) merge into one InferenceData."""

import arviz as az
import numpy as np
import pytest
from stats_testing import z_bound

from bayesdl.diagnostics.arviz_export import merge_chains, to_inference_data
from bayesdl.errors import InputError
from bayesdl.inference import sample_posterior


def _gaussian_potential(z):
    return 0.5 * ((z - 1.0) ** 2).sum(-1)


def test_runs_with_different_seeds_merge_into_one_posterior(tmp_path, seed):
    paths = []
    for rank in range(2):  # stands in for one process per GPU
        post = sample_posterior(
            _gaussian_potential,
            potential_dim=2,
            num_chains=2,
            num_warmup=150,
            num_samples=150,
            seed=seed(rank),
            progress=False,
        )
        path = tmp_path / f"part{rank}.nc"
        to_inference_data(post).to_netcdf(str(path))
        paths.append(path)
    parts = [az.from_netcdf(str(p)) for p in paths]
    merged = merge_chains(parts)
    assert merged.posterior.sizes["chain"] == 4 and list(merged.posterior.chain.values) == [0, 1, 2, 3]
    assert merged.sample_stats.sizes["chain"] == 4
    for var in merged.posterior.data_vars:
        stacked = np.concatenate([p.posterior[var].values for p in parts], axis=0)
        np.testing.assert_array_equal(merged.posterior[var].values, stacked)
    # chains of different seeds really differ, and the merged summary sees all of them
    first = [p.posterior[list(p.posterior.data_vars)[0]].values for p in parts]
    assert not np.allclose(first[0], first[1])
    summary = az.summary(merged)
    # split R-hat^2 ~ 1 + (tau F - 1) / N' with 8 half-chains of N' = 75 and F ~ chi2_7 / 7 (upper 1e-5
    # point 4.6): below 1.05 while tau = N / ESS <= 2.8 (NUTS on a Gaussian: tau ~ 1)
    assert float(summary["r_hat"].max()) < 1.05
    draws = merged.posterior[list(merged.posterior.data_vars)[0]].values  # [chain, draw, 2], mean 1, sd 1
    for k in range(2):
        x = draws[..., k]
        assert abs(float(x.mean()) - 1.0) <= z_bound(tests=2) * float(az.mcse(x, method="mean")), k


def test_mismatched_parts_are_refused():
    a = az.from_dict(posterior={"mu": np.zeros((2, 50))})
    b = az.from_dict(posterior={"mu": np.zeros((2, 40))})
    with pytest.raises(InputError, match="draws"):
        merge_chains([a, b])
    with pytest.raises(InputError, match="at least one"):
        merge_chains([])
    c = az.from_dict(posterior={"mu": np.zeros((2, 50))}, sample_stats={"diverging": np.zeros((2, 50), bool)})
    with pytest.raises(InputError, match="groups"):
        merge_chains([a, c])
