"""Flow posterior and flow prior of the VAE: log-det bookkeeping against a numerical Jacobian, normalisation."""

import math

import pytest
import torch

import bayesdl
from bayesdl.errors import InputError
from bayesdl.inference import Trainer, log_likelihood
from bayesdl.models.vae import VAE, FlowPosteriorEncoder, FlowPrior, MLPDecoder


def perturbed(module: torch.nn.Module, scale: float = 0.3, seed: int = 0) -> torch.nn.Module:
    """Random parameters, so that every flow step is far from the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))
    return module


def numerical_log_abs_det(fn, z0: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """log|det J| of fn: R^L -> R^L at z0 [L] by central finite differences (float64)."""
    cols = []
    for i in range(len(z0)):
        e = torch.zeros_like(z0)
        e[i] = eps
        cols.append((fn(z0 + e) - fn(z0 - e)) / (2 * eps))
    return torch.linalg.slogdet(torch.stack(cols, 1))[1]


@pytest.mark.parametrize("kind", ["iaf", "planar", "radial"])
def test_flow_posterior_log_q_matches_change_of_variables(kind):
    torch.manual_seed(0)
    latent = 3
    enc = perturbed(
        FlowPosteriorEncoder([5], latent, hidden_sizes=[6], flow=kind, num_flows=3, flow_hidden_sizes=[8])
    ).double()
    x = torch.bernoulli(
        torch.full((4, 5), 0.5, dtype=torch.float64), generator=torch.Generator().manual_seed(1)
    )
    q = enc(x)
    torch.manual_seed(0)
    z = q.rsample()
    log_q = q.log_prob(z)  # cached from the sampling pass: log q_0(z_0) - sum log|det J_k|
    # recompute z_0 from the same noise, and the full map z_0 -> z_K by hand
    torch.manual_seed(0)
    with torch.no_grad():
        h = enc.context(x)
        z0 = enc.flow.base.rsample(len(x), h)
        loc, log_scale = enc.flow.base.loc_log_scale(len(x), h)
    log_q, z = log_q.detach(), z.detach()
    with torch.no_grad():
        for b in range(len(x)):

            def full_map(v, b=b):
                return enc.flow.transform.inverse(v[None], h[b : b + 1])[0][0]

            assert torch.allclose(full_map(z0[b]), z[b], atol=1e-10)
            log_q0 = torch.distributions.Normal(loc[b], log_scale[b].exp()).log_prob(z0[b]).sum()
            direct = log_q0 - numerical_log_abs_det(full_map, z0[b].detach())
            assert abs(float(log_q[b] - direct)) < 1e-6, (kind, b, float(log_q[b]), float(direct))
            # the wrong sign of the seed notes would be far off
            assert abs(float(log_q0 + numerical_log_abs_det(full_map, z0[b].detach()) - direct)) > 1e-3
    # log_prob of a fresh tensor (no cache) inverts the steps and agrees
    assert torch.allclose(q.log_prob(z.clone()).detach(), log_q, atol=1e-6)


def test_flow_posterior_trains_and_gives_an_importance_sampled_log_likelihood(tmp_path):
    torch.manual_seed(0)
    x = torch.bernoulli(torch.rand(1, 6).expand(64, 6).clone())
    vae = VAE(
        FlowPosteriorEncoder([6], 2, hidden_sizes=[16], flow="iaf", num_flows=2, flow_hidden_sizes=[16]),
        MLPDecoder(2, [6], hidden_sizes=[16]),
    )
    before = float(vae.negative_elbo(x, num_particles=20).mean().detach())
    Trainer(vae, lr=1e-2, epochs=20, batch_size=32, progress=False, seed=0).fit(x)
    after = vae.negative_elbo(x, num_particles=50).detach()
    assert float(after.mean()) < before
    est = log_likelihood(vae, x[:8], num_samples=200, batch_size=4, seed=0)
    assert est.log_prob.shape == (8,) and torch.isfinite(est.log_prob).all() and (est.stderr >= 0).all()
    # the importance-sampled estimate lies above the ELBO (up to Monte Carlo noise)
    assert est.mean() > -float(after[:8].mean()) - 3 * est.mean_stderr() - 0.05
    bayesdl.save(vae, tmp_path / "flow_vae")
    again = bayesdl.load(tmp_path / "flow_vae")
    torch.manual_seed(3)
    a = vae.negative_elbo(x[:4])
    torch.manual_seed(3)
    assert torch.allclose(again.negative_elbo(x[:4]), a)


def test_flow_prior_normalises_and_matches_change_of_variables():
    torch.manual_seed(0)  # the MADE initialisation draws from the global generator
    prior = perturbed(FlowPrior(2, num_layers=2, hidden_sizes=[8]), scale=0.4).double()
    p = prior()
    # numerical integration of exp(log p) over a fine grid on [-20, 20]^2 (the perturbed MAF puts
    # about 0.5% of its mass beyond 10, so a narrower box would not hold it all)
    t = torch.linspace(-20, 20, 801, dtype=torch.float64)
    grid = torch.cartesian_prod(t, t)
    with torch.no_grad():
        mass = p.log_prob(grid).exp().sum() * (t[1] - t[0]) ** 2
        assert abs(float(mass) - 1) < 2e-3
        # change of variables at a few points: log N(f(z)) + log|det df/dz| with a numerical Jacobian
        z = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        for zi, lp in zip(z, p.log_prob(z)):

            def f(v):
                return prior.flow.transform(v[None])[0][0]

            direct = torch.distributions.Normal(0.0, 1.0).log_prob(f(zi)).sum() + numerical_log_abs_det(f, zi)
            assert abs(float(lp - direct)) < 1e-6
    # it is no longer a standard normal, and samples have the prior's shape
    assert not torch.allclose(
        p.log_prob(z), torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1), atol=1e-2
    )
    assert p.sample(torch.Size([7])).shape == (7, 2)


def test_vae_with_flow_prior_and_flow_posterior_trains_and_rejects_bad_input():
    torch.manual_seed(0)
    vae = VAE(
        FlowPosteriorEncoder([6], 2, hidden_sizes=[8], flow="planar", num_flows=2),
        MLPDecoder(2, [6], hidden_sizes=[8]),
        prior=FlowPrior(2, hidden_sizes=[8]),
    )
    x = torch.bernoulli(torch.full((32, 6), 0.3))
    history = Trainer(vae, lr=1e-2, epochs=5, batch_size=16, progress=False, seed=0).fit(x)
    assert history.losses[-1] < history.losses[0]
    assert vae.prior.flow.transform.transforms[0].net.output.weight.abs().sum() > 0  # the prior learned
    with pytest.raises(InputError, match="flow"):
        FlowPosteriorEncoder([6], 2, flow="spline")
    with pytest.raises(InputError, match="x"):
        vae.loss(torch.full((2, 6), 0.5))
    with pytest.raises(InputError):
        vae.loss(torch.ones(2, 5))
    assert math.isfinite(float(vae.loss(x).detach()))
