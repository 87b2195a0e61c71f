"""The shared ODE log-likelihood (bayesdl.inference.ode_likelihood) against exact answers.

* On Gaussian data the score and the flow-matching velocity are known in closed form (tests/gaussian_oracles.py), and
  so is the density of the model they define: the ODE log-likelihood must equal it to within the solver tolerance,
  for the VP, sub-VP and VE SDEs and for flow matching, and the error must shrink with the tolerance.
* The Hutchinson-Skilling estimate must be unbiased for the exact trace (mean within z * SE over many probes), both
  for one Jacobian and through the whole ODE, and its reported SE must be the spread over probes.
* Bad input and a non-finite solve give named errors.
"""

from __future__ import annotations

import math

import pytest
import torch
from gaussian_oracles import FlowOracle, SDEOracle, exact_model_log_prob
from stats_testing import z_bound

from bayesdl.errors import InputError, ODESolverError
from bayesdl.inference import exact_divergence, hutchinson_divergence, ode_log_likelihood
from bayesdl.models.continuous import VESDE, VPSDE, FlowMatching, ScoreSDE, SubVPSDE
from bayesdl.results import ODELogLikelihood, bits_per_dim

M = torch.tensor([0.5, -1.0], dtype=torch.float64)
S = torch.tensor([0.7, 1.3], dtype=torch.float64)


def _data(n: int = 32, seed: int = 0) -> torch.Tensor:
    return M + S * torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _std_normal(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * z.pow(2).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


@pytest.mark.parametrize("sde", [VPSDE(), SubVPSDE(), VESDE(0.01, 10.0)], ids=["vp", "subvp", "ve"])
def test_score_sde_ode_likelihood_equals_the_exact_density(sde):
    model = ScoreSDE(SDEOracle(sde, M, S), data_shape=[2], sde=sde).double()
    x = _data()
    exact = exact_model_log_prob(model.network, x, *model.time_span, model.prior_std)
    errors = {}
    for tol in (1e-5, 1e-7):
        result = ode_log_likelihood(model, x, rtol=tol, atol=tol)
        errors[tol] = float((result.log_prob - exact).abs().max())
        assert result.nfe > 0 and result.divergence == "exact" and bool((result.stderr == 0).all())
    # measured: 5e-5..9e-5 at 1e-5 and 6e-7..1.5e-6 at 1e-7; the bound is 100 x (rtol + atol)
    assert errors[1e-5] < 2e-3 and errors[1e-7] < 2e-5
    assert errors[1e-7] < errors[1e-5]


@pytest.mark.parametrize("sigma_min", [0.0, 0.1])
def test_flow_matching_ode_likelihood_equals_the_exact_density(sigma_min):
    model = FlowMatching(FlowOracle(M, S, sigma_min), data_shape=[2], sigma_min=sigma_min).double()
    x = _data()
    # for flow matching the prior is exactly p_1, so the model is exactly the data marginal N(m, s^2 + sigma_min^2)
    exact = torch.distributions.Normal(M, (S**2 + sigma_min**2).sqrt()).log_prob(x).sum(1)
    assert torch.allclose(exact, exact_model_log_prob(model.network, x, *model.time_span, 1.0), atol=1e-12)
    result = ode_log_likelihood(model, x, rtol=1e-7, atol=1e-7)
    assert float((result.log_prob - exact).abs().max()) < 2e-5  # measured 6e-7 and 1.2e-6


def test_velocity_callable_with_prior_and_time_span_matches_the_linear_flow():
    """dx/dt = A x from 0 to 1: z = e^A x and log p(x) = log N(e^A x) + tr(A)."""
    a = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    result = ode_log_likelihood(
        lambda v, t: v @ a.T, x, prior_log_prob=_std_normal, time_span=(0.0, 1.0), rtol=1e-9, atol=1e-9
    )
    exact = _std_normal(x @ torch.linalg.matrix_exp(a).T) + torch.trace(a)
    assert torch.allclose(result.log_prob, exact, atol=1e-6)
    backwards = ode_log_likelihood(
        lambda v, t: v @ a.T, x, prior_log_prob=_std_normal, time_span=(1.0, 0.0), rtol=1e-9, atol=1e-9
    )
    assert torch.allclose(
        backwards.log_prob, _std_normal(x @ torch.linalg.matrix_exp(-a).T) - torch.trace(a), atol=1e-6
    )


class _SmallField(torch.nn.Module):
    def __init__(self, d: int, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(d + 1, 16), torch.nn.Tanh(), torch.nn.Linear(16, d)
        ).double()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t.reshape(-1, 1).to(x.dtype)], 1))


@pytest.mark.parametrize("kind", ["rademacher", "gaussian"])
def test_hutchinson_is_unbiased_for_the_exact_trace(kind, seed):
    field = _SmallField(4, seed(3))
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    v = field(x, torch.zeros(6, dtype=torch.float64))
    exact = exact_divergence(v, x)
    jac = torch.autograd.functional.jacobian(
        lambda y: field(y, torch.zeros(6, dtype=torch.float64)).sum(0), x
    )
    assert torch.allclose(exact, torch.einsum("ibi->b", jac), atol=1e-12)
    k = 4000
    g = torch.Generator().manual_seed(seed(4))
    probes = (
        torch.randn(k, 6, 4, dtype=torch.float64, generator=g)
        if kind == "gaussian"
        else torch.randint(0, 2, (k, 6, 4), generator=g).double() * 2 - 1
    )
    est = hutchinson_divergence(v, x, probes)
    se = est.std(0) / math.sqrt(k)
    assert bool((se > 0).all())
    assert bool(((est.mean(0) - exact).abs() <= z_bound(tests=6) * se).all()), (est.mean(0), exact, se)


def test_hutchinson_ode_likelihood_is_unbiased_with_its_reported_se(seed):
    field = _SmallField(3, seed(5))
    x = torch.randn(8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    common = dict(prior_log_prob=_std_normal, time_span=(0.0, 1.0), rtol=1e-7, atol=1e-7)
    exact = ode_log_likelihood(field, x, **common)
    est = ode_log_likelihood(field, x, divergence="hutchinson", num_probes=400, seed=seed(7), **common)
    assert est.num_probes == 400 and "Hutchinson" in est.label and "exact" in exact.label
    assert bool((est.stderr > 0).all())
    assert bool(((est.log_prob - exact.log_prob).abs() <= z_bound(tests=8) * est.stderr + 1e-4).all())
    # same seed, same probes, same numbers; a different seed moves them
    again = ode_log_likelihood(field, x, divergence="hutchinson", num_probes=400, seed=seed(7), **common)
    assert torch.equal(est.log_prob, again.log_prob)


def test_seeded_probes_leave_the_global_generator_alone():
    field = _SmallField(2, 0)
    state = torch.get_rng_state()
    ode_log_likelihood(
        field,
        torch.zeros(3, 2, dtype=torch.float64),
        divergence="hutchinson",
        num_probes=2,
        seed=0,
        prior_log_prob=_std_normal,
        time_span=(0.0, 1.0),
    )
    assert torch.equal(state, torch.get_rng_state())


def test_one_probe_warns_and_gives_nan_se():
    with pytest.warns(UserWarning, match="num_probes"):
        r = ode_log_likelihood(
            _SmallField(2, 0),
            torch.zeros(3, 2, dtype=torch.float64),
            divergence="hutchinson",
            seed=0,
            prior_log_prob=_std_normal,
            time_span=(0.0, 1.0),
        )
    assert bool(r.stderr.isnan().all()) and bool(torch.isfinite(r.log_prob).all())


def test_result_bits_per_dim_goes_through_the_one_helper_and_tighter_tolerance_costs_more_evaluations():
    model = FlowMatching(FlowOracle(M, S), data_shape=[2]).double()
    x = _data(8)
    loose = ode_log_likelihood(model, x, rtol=1e-3, atol=1e-3)
    tight = ode_log_likelihood(model, x, rtol=1e-8, atol=1e-8)
    assert tight.nfe > loose.nfe and tight.rtol == 1e-8 and tight.method == "dopri5"
    assert torch.equal(
        tight.bits_per_dim(2, num_levels=256, log_det_preprocess=2 * math.log(2)),
        bits_per_dim(tight.log_prob, 2, num_levels=256, log_det_preprocess=2 * math.log(2)),
    )
    assert isinstance(tight, ODELogLikelihood) and "nfe=" in str(tight)
    assert tight.log_prob.dtype == torch.float64


def test_a_non_finite_solution_names_the_time_and_the_tolerance():
    def blows_up(x, t):
        return x / (0.5 - t).reshape(-1, 1)  # infinite at t = 0.5

    with pytest.raises(ODESolverError, match=r"t = .*rtol = 0\.001") as caught:
        ode_log_likelihood(
            blows_up, torch.ones(2, 2), prior_log_prob=_std_normal, time_span=(0.0, 1.0), rtol=1e-3, atol=1e-3
        )
    assert "atol" in str(caught.value)

    def nan_late(x, t):
        return torch.where(t.reshape(-1, 1) > 0.7, torch.full_like(x, float("nan")), -x)

    with pytest.raises(ODESolverError, match=r"t = 0\.7|t = 0\.[89]|t = 1"):
        ode_log_likelihood(nan_late, torch.ones(2, 2), prior_log_prob=_std_normal, time_span=(0.0, 1.0))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"method": "rk45"}, "method"),
        ({"rtol": -1.0}, "rtol"),
        ({"atol": float("nan")}, "atol"),
        ({"divergence": "trace"}, "divergence"),
        ({"probe": "uniform"}, "probe"),
        ({"divergence": "hutchinson", "num_probes": 0}, "num_probes"),
        ({"time_span": (1.0, 1.0)}, "time_span"),
    ],
)
def test_bad_settings_raise_input_error_naming_them(kwargs, name):
    args = {"prior_log_prob": _std_normal, "time_span": (0.0, 1.0), **kwargs}
    with pytest.raises(InputError, match=name):
        ode_log_likelihood(lambda x, t: -x, torch.zeros(2, 2), **args)


def test_bad_data_and_missing_prior_raise_input_error():
    model = FlowMatching(FlowOracle(M.float(), S.float()), data_shape=[2])
    for bad in (
        torch.tensor([[float("nan"), 0.0]]),
        torch.zeros(2, 3),
        torch.zeros(2, 2, dtype=torch.long),
        torch.zeros(0, 2),
    ):
        with pytest.raises(InputError, match="x"):
            ode_log_likelihood(model, bad)
    with pytest.raises(InputError, match="prior_log_prob"):
        ode_log_likelihood(lambda x, t: -x, torch.zeros(2, 2))
    with pytest.raises(InputError, match="velocity must have the shape"):
        ode_log_likelihood(
            lambda x, t: x[:, :1], torch.zeros(2, 2), prior_log_prob=_std_normal, time_span=(0.0, 1.0)
        )
