"""Exact fields of continuous-time models on Gaussian data N(m, diag(s^2)), for tests.

For such data every marginal of a linear SDE or of the flow-matching path is Gaussian, N(mu_t, diag(S_t^2)), so the
score and the marginal velocity are known in closed form, and the probability-flow map between two times is the
per-dimension affine map mu_b + (S_b / S_a)(x - mu_a) (the monotone transport of one Gaussian onto another). The
model's exact log-density at the data time is the prior's at the image of x, plus sum log(S_prior / S_data).
"""

from __future__ import annotations

import math

import torch


class SDEOracle(torch.nn.Module):
    """The exact noise predictor of a ScoreSDE, eps*(x, t) = sigma_t (x - alpha_t m) / (alpha_t^2 s^2 + sigma_t^2)."""

    def __init__(self, sde, m: torch.Tensor, s: torch.Tensor, time_scale: float = 1000.0) -> None:
        super().__init__()
        self.sde, self.time_scale = sde, time_scale
        self.register_buffer("m", m)
        self.register_buffer("s", s)

    def moments(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha, sigma = self.sde.marginal(t.reshape(-1, 1).to(self.m.dtype))
        return alpha * self.m, (alpha.pow(2) * self.s.pow(2) + sigma.pow(2)).sqrt()

    def forward(self, x: torch.Tensor, s_net: torch.Tensor) -> torch.Tensor:
        t = s_net / self.time_scale
        mu, std = self.moments(t)
        sigma = self.sde.marginal(t.reshape(-1, 1).to(x.dtype))[1]
        return sigma * (x - mu) / std.pow(2)


class FlowOracle(torch.nn.Module):
    """The exact marginal velocity of FlowMatching: mu_t' + (S_t' / S_t)(x - mu_t), mu_t = (1-t) m,
    S_t^2 = (1-t)^2 s^2 + c_t^2, c_t = sigma_min + (1 - sigma_min) t."""

    def __init__(
        self, m: torch.Tensor, s: torch.Tensor, sigma_min: float = 0.0, time_scale: float = 1000.0
    ) -> None:
        super().__init__()
        self.sigma_min, self.time_scale = sigma_min, time_scale
        self.register_buffer("m", m)
        self.register_buffer("s", s)

    def moments(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = t.reshape(-1, 1).to(self.m.dtype)
        c = self.sigma_min + (1 - self.sigma_min) * t
        return (1 - t) * self.m, ((1 - t).pow(2) * self.s.pow(2) + c.pow(2)).sqrt()

    def forward(self, x: torch.Tensor, s_net: torch.Tensor) -> torch.Tensor:
        t = (s_net / self.time_scale).reshape(-1, 1).to(x.dtype)
        mu, std = self.moments(t)
        c = self.sigma_min + (1 - self.sigma_min) * t
        dvar = -(1 - t) * self.s.pow(2) + (1 - self.sigma_min) * c  # (S^2)' / 2
        return -self.m + dvar / std.pow(2) * (x - mu)


def exact_model_log_prob(
    oracle, x: torch.Tensor, t_data: float, t_prior: float, prior_std: float
) -> torch.Tensor:
    """log p(x) of the model whose ODE is the oracle's exact probability flow, with the prior N(0, prior_std^2 I)."""
    mu_a, s_a = oracle.moments(torch.tensor([t_data]))
    mu_b, s_b = oracle.moments(torch.tensor([t_prior]))
    z = mu_b + s_b / s_a * (x - mu_a)
    d = x.shape[1]
    prior = -0.5 * (z.pow(2).sum(1) / prior_std**2 + d * math.log(2 * math.pi * prior_std**2))
    return prior + torch.log(s_b / s_a).sum()


def four_gaussians(
    seed: int, n_train: int = 2000, n_test: int = 100
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A 2-D mixture of four Gaussians (sd 0.4 at (+-1.5, +-1.5)): train and test points, and the test points' exact
    negative log-density."""
    from bayesdl.randomness import seeded_rng

    centers = torch.tensor([[1.5, 1.5], [-1.5, 1.5], [1.5, -1.5], [-1.5, -1.5]])
    comp = torch.distributions.Independent(torch.distributions.Normal(centers, 0.4 * torch.ones(4, 2)), 1)
    mix = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(torch.ones(4)), comp)
    with seeded_rng(seed):
        train, test = mix.sample((n_train,)), mix.sample((n_test,))
    return train, test, -mix.log_prob(test)


def training_gain(
    model: torch.nn.Module, train: torch.Tensor, test: torch.Tensor, epochs: int, seed: int
) -> torch.Tensor:
    """The per-test-point gain in ODE log-likelihood (rtol = atol = 1e-3) from training ``model`` on ``train``."""
    from bayesdl.inference import Trainer, ode_log_likelihood

    before = ode_log_likelihood(model, test, rtol=1e-3, atol=1e-3).log_prob
    Trainer(model, lr=3e-3, epochs=epochs, batch_size=200, progress=False, seed=seed).fit(train)
    model.eval()
    return ode_log_likelihood(model, test, rtol=1e-3, atol=1e-3).log_prob - before
