"""Ancestral and DDIM sampling."""

import pytest
import torch
from scipy.stats import ks_2samp
from stats_testing import FALSE_FAILURE_RATE

from bayesdl.errors import InputError
from bayesdl.models.diffusion import DDPM, ddim_timesteps
from bayesdl.nn import DenoisingMLP


def _nonlinear_model(variance="beta_tilde", steps=100):
    torch.manual_seed(3)
    net = DenoisingMLP(1, hidden=16, num_blocks=2)
    with torch.no_grad():  # a fixed, clearly non-Gaussian reverse process
        net.out.weight.mul_(40.0)
    return DDPM(net, data_shape=[1], num_steps=steps, variance=variance)


def test_ddim_with_eta_one_and_all_steps_matches_ancestral_sampling_in_distribution(seed):
    model = _nonlinear_model()
    ancestral = model.sample(3000, seed=seed(1))[:, 0]
    ddim = model.ddim_sample(3000, num_steps=model.num_steps, eta=1.0, seed=seed(2))[:, 0]
    assert ks_2samp(ancestral.numpy(), ddim.numpy()).pvalue > FALSE_FAILURE_RATE
    # the distribution is far from the N(0, 1) start, so the KS test has power here
    assert (
        ks_2samp(
            ancestral.numpy(), torch.randn(3000, generator=torch.Generator().manual_seed(seed(3))).numpy()
        ).pvalue
        < 1e-6
    )
    # and with the same noise draws the two samplers give the same paths, up to float error
    assert torch.allclose(
        model.sample(200, seed=seed(5)),
        model.ddim_sample(200, num_steps=model.num_steps, eta=1.0, seed=seed(5)),
        atol=1e-3,
    )


def test_deterministic_ddim_differs_from_ancestral_and_ignores_the_noise_after_x_T():
    model = _nonlinear_model()
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a = model.ddim_sample(50, num_steps=20, eta=0.0, generator=g1)
    b = model.ddim_sample(50, num_steps=20, eta=0.0, generator=g2)
    assert torch.equal(a, b)
    assert not torch.allclose(a, model.ddim_sample(50, num_steps=20, eta=0.5, seed=0))


def test_ancestral_sampling_is_seeded_and_keeps_the_requested_steps():
    model = _nonlinear_model(variance="beta", steps=30)
    x, path = model.sample(16, seed=0, keep=[30, 10, 0])
    assert sorted(path) == [0, 10, 30]
    assert torch.equal(path[0], x)
    assert torch.equal(model.sample(16, seed=0), x)
    assert not torch.equal(model.sample(16, seed=1), x)
    with pytest.raises(InputError):
        model.sample(4, keep=[31])


def test_ddim_timesteps_and_bad_arguments():
    assert ddim_timesteps(10, 10).tolist() == list(range(1, 11))
    steps = ddim_timesteps(1000, 50)
    assert len(steps) == 50 and int(steps[0]) == 1 and int(steps[-1]) == 1000
    model = _nonlinear_model(steps=10)
    with pytest.raises(InputError):
        model.ddim_sample(2, num_steps=11)
    with pytest.raises(InputError):
        model.ddim_sample(2, num_steps=5, eta=1.5)
    with pytest.raises(InputError):
        model.sample(0)
