"""Flow matching / rectified flow (bayesdl.models.continuous.FlowMatching).

* The exact marginal velocity of Gaussian data minimises the loss (it is the conditional expectation of the target):
  perturbing it raises the loss by the perturbation's mean square, within z * SE on common random numbers.
* ODE samples of the exact velocity have the data's moments (z * SE), also with few Euler steps.
* Training on a 2-D toy set improves the held-out ODE likelihood; a reflow coupling trains; save/load; bad input.
"""

from __future__ import annotations

import math

import pytest
import torch
from gaussian_oracles import FlowOracle, four_gaussians, training_gain
from stats_testing import z_bound

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import Trainer, ode_log_likelihood
from bayesdl.models.continuous import FlowMatching
from bayesdl.nn import DenoisingMLP

M = torch.tensor([0.5, -1.0], dtype=torch.float64)
S = torch.tensor([0.7, 1.3], dtype=torch.float64)


class _Shifted(torch.nn.Module):
    def __init__(self, base: torch.nn.Module, shift: float) -> None:
        super().__init__()
        self.base, self.shift = base, shift

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.base(x, t) + self.shift


def test_the_exact_marginal_velocity_minimises_the_loss(seed):
    """L(v + c) - L(v*) = c^2 for the minimiser v* = E[u | x_t] (the cross term has mean 0)."""
    oracle = FlowMatching(FlowOracle(M, S), [2]).double()
    shifted = FlowMatching(_Shifted(FlowOracle(M, S), 0.3), [2]).double()
    x = M + S * torch.randn(20000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed(31)))
    with bayesdl.randomness.seeded_rng(seed(32)):
        base = oracle.loss(x)
    with bayesdl.randomness.seeded_rng(seed(32)):  # the same t and z: common random numbers
        other = shifted.loss(x)
    # the per-example difference c^2 + c sum_d (v*_d - u_d) has sd c sqrt(2 base); 2 c sqrt(base) is conservative
    se = 2 * 0.3 * math.sqrt(float(base)) / math.sqrt(len(x))
    assert abs(float(other - base) - 0.09) <= z_bound() * se


@pytest.mark.parametrize("method, options", [("dopri5", None), ("euler", {"step_size": 0.05})])
def test_ode_samples_of_the_exact_velocity_have_the_data_moments(method, options, seed):
    model = FlowMatching(FlowOracle(M, S), [2]).double()
    x = model.sample(3000, method=method, options=options, rtol=1e-6, atol=1e-6, seed=seed(33))
    z = z_bound(tests=8)
    # Euler's O(h) error on this affine field: measured under 1% of a standard deviation at h = 0.05
    slack = 0.0 if options is None else 0.03
    assert bool(((x.mean(0) - M).abs() <= z * S / math.sqrt(len(x)) + slack * S).all()), x.mean(0)
    assert bool(((x.var(0) - S**2).abs() <= z * S**2 * math.sqrt(2 / len(x)) + 2 * slack * S**2).all()), (
        x.var(0)
    )


def test_training_improves_the_ode_likelihood(seed):
    train, test, _ = four_gaussians(seed(34))
    torch.manual_seed(seed(35))
    gain = training_gain(
        FlowMatching(DenoisingMLP(2, hidden=32, num_blocks=2), [2]), train, test, 10, seed(36)
    )
    assert float(gain.mean()) > z_bound() * float(gain.std()) / math.sqrt(len(gain)), gain.mean()


def test_reflow_pairs_are_joined_by_the_ode_and_train():
    torch.manual_seed(0)
    model = FlowMatching(DenoisingMLP(2, hidden=8, num_blocks=1), [2])
    x, z = model.couple(16, seed=0, rtol=1e-6, atol=1e-6)
    back, _ = model.transport(z, rtol=1e-6, atol=1e-6)
    assert torch.allclose(back, x, atol=1e-4) and x.shape == z.shape == (16, 2)
    history = Trainer(model, epochs=1, batch_size=8, progress=False).fit((x, z))
    assert math.isfinite(history.losses[0])
    with pytest.raises(InputError, match="z"):
        model.loss(x, z[:, :1])


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = FlowMatching(DenoisingMLP(2, hidden=8, num_blocks=1), [2], sigma_min=0.05, time_scale=10.0).eval()
    bayesdl.save(model, tmp_path / "fm")
    loaded = bayesdl.load(tmp_path / "fm").eval()
    assert loaded.sigma_min == 0.05 and loaded.time_scale == 10.0
    x = torch.randn(5, 2)
    assert torch.equal(
        ode_log_likelihood(model, x, rtol=1e-3, atol=1e-3).log_prob,
        ode_log_likelihood(loaded, x, rtol=1e-3, atol=1e-3).log_prob,
    )
    assert torch.equal(
        model.sample(3, seed=2, rtol=1e-3, atol=1e-3), loaded.sample(3, seed=2, rtol=1e-3, atol=1e-3)
    )


def test_bad_input_is_refused_with_named_errors():
    net = DenoisingMLP(2, hidden=8, num_blocks=1)
    for value in (1.0, -0.1, True):
        with pytest.raises(InputError, match="sigma_min"):
            FlowMatching(net, [2], sigma_min=value)
    with pytest.raises(InputError, match="time_scale"):
        FlowMatching(net, [2], time_scale=0)
    with pytest.raises(InputError, match="data_shape"):
        FlowMatching(net, [])
    with pytest.raises(InputError, match="network"):
        FlowMatching("mlp", [2])
    model = FlowMatching(net, [2])
    for bad in (
        torch.zeros(3, 3),
        torch.zeros(3, 2, dtype=torch.long),
        torch.tensor([[float("inf"), 0.0]]),
        torch.zeros(0, 2),
    ):
        with pytest.raises(InputError, match="x"):
            model.loss(bad)
    with pytest.raises(InputError, match="method"):
        model.sample(2, method="rk45")
    with pytest.raises(InputError, match="n"):
        model.sample(0)
