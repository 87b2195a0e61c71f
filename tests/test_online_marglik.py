"""Online marginal-likelihood tuning of the prior precision (Immer et al. 2021, arXiv:2104.04975): OnlineMarglik."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch import nn

from bayesdl.errors import InputError
from bayesdl.inference import OnlineMarglik, Trainer
from bayesdl.models import MLP, PlainNet
from bayesdl.models.laplace import Laplace


def _linear_data(seed: int, n: int = 60, d: int = 3, delta: float = 4.0, sigma: float = 0.5):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    phi = torch.cat([x, torch.ones(n, 1)], 1)
    y = phi @ (torch.randn(d + 1, generator=g) / math.sqrt(delta)) + sigma * torch.randn(n, generator=g)
    return x, y, phi.double()


def _exact_log_evidence(phi: torch.Tensor, y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """log N(y; 0, sigma^2 I + delta^{-1} Phi Phi^T) with delta = e^u, sigma = e^v: the evidence of w ~ N(0, delta^{-1} I)."""
    n = len(y)
    cov = (2 * v).exp() * torch.eye(n, dtype=torch.float64) + phi @ phi.T / u.exp()
    return torch.distributions.MultivariateNormal(torch.zeros(n, dtype=torch.float64), cov).log_prob(y)


def _exact_maximiser(phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    uv = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [uv], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        loss = -_exact_log_evidence(phi, y, uv[0], uv[1])
        loss.backward()
        return loss

    opt.step(closure)
    return uv.detach()


def test_online_marglik_reaches_the_exact_evidence_maximiser_of_a_linear_model(seed):
    """Bayesian linear regression, w ~ N(0, delta^{-1} I), y ~ N(Phi w, sigma^2): the GGN Laplace evidence is exact.

    The online iteration's fixed point is where the Laplace-evidence gradient g_L at the trained weights theta_T
    vanishes. The exact evidence gradient there differs from g_L only through theta_T - theta_hat (theta_hat the
    exact MAP at the final (delta, sigma)), with eps = ||theta_T - theta_hat||:
    d/du depends on theta through -delta ||theta||^2 / 2, so it moves by <= delta (||theta_hat|| eps + eps^2 / 2);
    d/dv through SSE / sigma^2, which moves by <= (2 ||r|| ||Phi|| eps + ||Phi||^2 eps^2) / sigma^2 (r the MAP
    residuals). With b = ||g_L|| + that bound, Newton's step bounds the distance to the exact maximiser
    (u*, v*) = (log delta*, log sigma*): ||(u, v)_T - (u*, v*)|| <= ||H_E^{-1}|| b, doubled for the second-order
    remainder (H_E the exact evidence Hessian). The test also requires the bound to be small (< 0.01), so that it
    cannot pass by being loose.
    """
    x, y, phi = _linear_data(seed(0))
    model = PlainNet(nn.Linear(3, 1), likelihood="homoscedastic", noise_std=1.0, learn_noise=False)
    factory = functools.partial(Laplace, subset="all", hessian="full")
    tuner = OnlineMarglik(factory, (x, y), frequency=1, burn_in=5, steps=10, lr=0.1)
    Trainer(
        model,
        optimizer="sgd",
        lr=0.2,
        epochs=30,
        batch_size=len(x),
        progress=False,
        seed=0,
        callbacks=[tuner],
    ).fit((x, y))

    y64 = y.double()
    star = _exact_maximiser(phi, y64)
    delta, sigma = tuner.prior_precision, tuner.noise_std
    theta_t = torch.cat([model.net.weight.detach().reshape(-1), model.net.bias.detach()]).double()
    theta_hat = torch.linalg.solve(
        phi.T @ phi + delta * sigma**2 * torch.eye(4, dtype=torch.float64), phi.T @ y64
    )
    eps = float((theta_t - theta_hat).norm())

    la = factory(model).fit((x, y))
    uv = torch.tensor([math.log(delta), math.log(sigma)], dtype=torch.float64, requires_grad=True)
    g_laplace = torch.autograd.grad(la.log_evidence(uv[0].exp(), uv[1].exp()), uv)[0]
    phi_norm = float(torch.linalg.matrix_norm(phi, ord=2))
    residual = float((phi @ theta_hat - y64).norm())
    shift = math.hypot(
        delta * (float(theta_hat.norm()) * eps + eps**2 / 2),
        (2 * residual * phi_norm * eps + phi_norm**2 * eps**2) / sigma**2,
    )
    hessian = torch.autograd.functional.hessian(lambda t: _exact_log_evidence(phi, y64, t[0], t[1]), star)
    tolerance = (
        2
        * float(torch.linalg.matrix_norm(torch.linalg.inv(hessian), ord=2))
        * (float(g_laplace.norm()) + shift)
    )

    assert tolerance < 0.01, (
        f"the fixed point was not reached: bound {tolerance:.3g} (eps {eps:.2g}, g_L {g_laplace.tolist()})"
    )
    error = float((uv.detach() - star).norm())
    assert error <= tolerance, (
        f"(log delta, log sigma) {uv.detach().tolist()} vs exact {star.tolist()}: {error:.3g} > {tolerance:.3g}"
    )
    assert tuner.updates[-1]["epoch"] == 30 and len(tuner.updates) == 25
    assert model.likelihood.noise_std.item() == pytest.approx(
        sigma, rel=1e-6
    )  # the training loss uses the tuned sigma


def _blobs(seed: int, n: int = 150):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    y = torch.randint(0, 3, (n,), generator=g)
    return centres[y] + torch.randn(n, 2, generator=g), y


def test_online_marglik_on_a_classifier_agrees_with_post_hoc_tuning(seed):
    """A 2-16-3 MLP, all-weights KFAC. Two checks:

    * at the final weights, the online delta is the post-hoc evidence maximiser to within the hyper-step
      size: Adam moves log delta by at most ~lr per step, so after it has crossed the optimum of a unimodal
      1-D objective it stays within lr of it (|log ratio| <= lr = 0.1);
    * against a network trained with a fixed delta = 1 and tuned post hoc: the two maximisers satisfy
      MacKay's delta = gamma / ||theta||^2 at two MAP weights, which differ only through the prior; measured ratios
      over seeds 0-3 lie in [1.0, 1.13], so a factor of 2 is a loose bound that a wrong prior scale
      (delta instead of delta / N in the weight decay: a 150x stronger prior) breaks.
    """
    s = seed(0)
    x, y = _blobs(s)
    factory = functools.partial(Laplace, subset="all", hessian="kron")
    torch.manual_seed(s)
    model = PlainNet(MLP(2, [16], 3))
    lr = 0.1
    tuner = OnlineMarglik(factory, (x, y), frequency=10, burn_in=10, steps=30, lr=lr)
    common = dict(lr=1e-2, epochs=50, batch_size=50, progress=False, seed=s)
    history = Trainer(model, callbacks=[tuner], **common).fit((x, y))
    assert [u["epoch"] for u in tuner.updates] == [20, 30, 40, 50]
    assert history.records[-1]["prior_precision"] == tuner.prior_precision
    group = tuner._prior_group
    assert group["weight_decay"] == pytest.approx(tuner.prior_precision / len(x))

    same = factory(model).fit((x, y)).optimize_prior_precision().prior_precision
    assert abs(math.log(tuner.prior_precision / same)) <= lr

    torch.manual_seed(s)
    reference = PlainNet(MLP(2, [16], 3))
    Trainer(reference, optimizer_kwargs={"weight_decay": 1.0 / len(x)}, **common).fit((x, y))
    post_hoc = factory(reference).fit((x, y)).optimize_prior_precision().prior_precision
    assert 0.5 <= tuner.prior_precision / post_hoc <= 2.0, (tuner.prior_precision, post_hoc)


def test_last_layer_prior_applies_to_the_last_layer_only():
    x, y = _blobs(1, n=60)
    model = PlainNet(MLP(2, [8], 3))
    tuner = OnlineMarglik(
        functools.partial(Laplace, subset="last_layer", hessian="diag"), (x, y), frequency=2, steps=5
    )
    trainer = Trainer(
        model,
        lr=1e-2,
        epochs=4,
        batch_size=30,
        progress=False,
        seed=0,
        callbacks=[tuner],
        optimizer_kwargs={"weight_decay": 1e-4},
    )
    trainer.fit((x, y))
    last = {id(p) for p in list(model.net.parameters())[-2:]}
    groups = trainer.optimizer.param_groups
    assert {id(p) for p in groups[-1]["params"]} == last
    assert all(id(p) not in last and g["weight_decay"] == 1e-4 for g in groups[:-1] for p in g["params"])
    assert len(tuner.updates) == 2 and tuner.noise_std is None
    assert all(math.isfinite(u["log_evidence"]) for u in tuner.updates)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"frequency": 0}, "frequency"),
        ({"frequency": 1.5}, "frequency"),
        ({"burn_in": -1}, "burn_in"),
        ({"steps": 0}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"prior_precision": -1.0}, "prior_precision"),
        ({"tune_noise": "yes"}, "tune_noise"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    x, y = _blobs(0, n=10)
    with pytest.raises(InputError, match=name):
        OnlineMarglik(functools.partial(Laplace, hessian="diag"), (x, y), **kwargs)


def test_bad_set_ups_are_refused():
    x, y = _blobs(0, n=20)
    with pytest.raises(InputError, match="approximation"):
        OnlineMarglik("laplace", (x, y))
    with pytest.raises(InputError, match="data"):
        OnlineMarglik(Laplace, None)
    model = PlainNet(MLP(2, [4], 3))
    tuner = OnlineMarglik(functools.partial(Laplace, hessian="diag"), (x, y))
    with pytest.raises(InputError, match="AdamW"):
        Trainer(model, optimizer="adamw", epochs=1, progress=False, seed=0, callbacks=[tuner]).fit((x, y))
    not_evidence = OnlineMarglik(lambda m: m, (x, y))
    with pytest.raises(InputError, match="EvidenceApproximation"):
        Trainer(model, epochs=1, progress=False, seed=0, callbacks=[not_evidence]).fit((x, y))
    xr, yr, _ = _linear_data(0, n=20)
    learned = PlainNet(nn.Linear(3, 1), likelihood="homoscedastic", learn_noise=True)
    tuner = OnlineMarglik(functools.partial(Laplace, subset="all", hessian="full"), (xr, yr))
    with pytest.raises(InputError, match="learn_noise=False"):
        Trainer(learned, epochs=1, progress=False, seed=0, callbacks=[tuner]).fit((xr, yr))
