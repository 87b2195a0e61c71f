"""Calls into bayesdl's samplers leave the caller's random generators and Pyro parameter store as they were
(issue 18 section 2): ``sample_posterior`` with a seed used to call ``pyro.set_rng_seed``, and
``guide_posterior`` used to run a bayesdl-trained guide against the global parameter store."""

from __future__ import annotations

import random

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer.autoguide import AutoNormal

from bayesdl.inference import guide_posterior, sample_posterior
from bayesdl.nn.pyro_params import module_local_params


def _states():
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()


def _same(a, b) -> bool:
    return a[0] == b[0] and bool((a[1] == b[1]).all()) and torch.equal(a[2], b[2])


def _model(y):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(y)):
        pyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def test_sample_posterior_with_a_seed_leaves_the_global_generators_alone():
    y = torch.tensor([0.5, 1.5, 1.0])
    random.seed(123), np.random.seed(123), torch.manual_seed(123)
    before = _states()
    post = sample_posterior(_model, y, num_chains=2, num_warmup=20, num_samples=10, seed=7, progress=False)
    after = _states()
    assert _same(before, after)  # pyro.set_rng_seed(7) changed all three
    # and the seed still fixes the draws, whatever the global state is
    torch.manual_seed(999), np.random.seed(999), random.seed(999)
    again = sample_posterior(_model, y, num_chains=2, num_warmup=20, num_samples=10, seed=7, progress=False)
    assert torch.equal(post.samples["mu"], again.samples["mu"])


def test_guide_posterior_reads_the_guides_own_parameters_and_leaves_the_store_untouched():
    pyro.clear_param_store()
    y = torch.full((20,), 3.0)
    with module_local_params():
        guide = AutoNormal(_model)
        guide(y)  # the guide's parameters are created inside the guide, as bayesdl's Trainer makes them
        with torch.no_grad():
            guide.locs.mu = torch.tensor(3.0)
    assert list(pyro.get_param_store().keys()) == []
    post = guide_posterior(_model, guide, y, num_samples=200, seed=0)
    assert (
        list(pyro.get_param_store().keys()) == []
    )  # before the fix: AutoNormal.locs.mu, AutoNormal.scales.mu
    # the draws come from the trained location 3.0 (a fresh store would start the guide at its init, 0 here);
    # the guide's initial scale is 0.1, so the mean of 200 draws is within 5 sd = 5 * 0.1 / sqrt(200) of 3
    assert abs(float(post.samples["mu"].mean()) - 3.0) < 5 * 0.1 / 200**0.5
