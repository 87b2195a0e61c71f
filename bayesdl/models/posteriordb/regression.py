"""Gaussian linear regressions of the posteriordb subset, as Pyro models on a design matrix.

y_i ~ N(x_i^T beta, sigma) with the intercept as a column of ones in x. Where the Stan program gives
no prior statement, its prior is flat (improper, uniform on the parameter's support); Pyro writes that
as a masked distribution, whose log density is 0 everywhere on the support (its ``sample`` only
serves initialisation).
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch


def flat_real(shape: tuple[int, ...], like: torch.Tensor) -> dist.TorchDistribution:
    """An improper flat prior on R^shape (log density 0): Stan's default for an unconstrained parameter.

    Arguments:
        shape: the event shape of the parameter (``()`` for a scalar).
        like: a tensor whose dtype and device the prior takes.

    Returns:
        A masked Normal with ``support`` the reals and ``log_prob`` identically 0.

    Example:
        >>> flat_real((3,), torch.zeros(1)).log_prob(torch.tensor([1e3, -2.0, 5.0])).item()
        0.0
    """
    base = dist.Normal(like.new_zeros(shape), 1.0)
    return base.to_event(len(shape)).mask(False)


def flat_positive(like: torch.Tensor) -> dist.TorchDistribution:
    """An improper flat prior on (0, inf) (log density 0): Stan's default for ``real<lower=0>``.

    Arguments:
        like: a tensor whose dtype and device the prior takes.

    Returns:
        A masked HalfNormal with ``support`` the positive reals and ``log_prob`` identically 0.

    Example:
        >>> flat_positive(torch.zeros(1)).log_prob(torch.tensor(40.0)).item()
        0.0
    """
    return dist.HalfNormal(like.new_ones(())).mask(False)


def linear_regression(
    x: torch.Tensor,
    y: torch.Tensor | None,
    beta_scale: float | None = None,
    sigma_prior: str = "flat",
    sigma_scale: float = 1.0,
) -> None:
    """y ~ N(x beta, sigma): beta [K] flat (or N(0, beta_scale)), sigma flat, half-Cauchy or half-normal.

    Arguments:
        x: the design matrix [N, K] (a column of ones for the intercept).
        y: the responses [N], or None to sample them.
        beta_scale: the sd of a N(0, beta_scale) prior on each coefficient; None for Stan's flat prior.
        sigma_prior: ``"flat"``, ``"half_cauchy"`` or ``"half_normal"`` (with scale ``sigma_scale``).
        sigma_scale: the scale of the half-Cauchy or half-normal prior on sigma.

    Returns:
        None; a Pyro model with latent sites ``beta`` [K] and ``sigma`` and observed site ``y``.

    Example:
        >>> x = torch.ones(4, 2, dtype=torch.float64)
        >>> sorted(pyro.poutine.trace(linear_regression).get_trace(x, torch.zeros(4)).stochastic_nodes)
        ['beta', 'data', 'sigma']
    """
    k = x.shape[1]
    if beta_scale is None:
        beta = pyro.sample("beta", flat_real((k,), x))
    else:
        beta = pyro.sample("beta", dist.Normal(x.new_zeros(k), beta_scale).to_event(1))
    if sigma_prior == "flat":
        sigma = pyro.sample("sigma", flat_positive(x))
    elif sigma_prior == "half_cauchy":
        sigma = pyro.sample("sigma", dist.HalfCauchy(x.new_tensor(sigma_scale)))
    else:
        sigma = pyro.sample("sigma", dist.HalfNormal(x.new_tensor(sigma_scale)))
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(x @ beta, sigma), obs=y)


def kilpisjarvi(
    x: torch.Tensor,
    y: torch.Tensor | None,
    prior_mean_alpha: float,
    prior_sd_alpha: float,
    prior_mean_beta: float,
    prior_sd_beta: float,
) -> None:
    """y ~ N(alpha + beta x, sigma) with normal priors on alpha and beta and a flat prior on sigma.

    With x the calendar year (about 1950-2010) the posterior of (alpha, beta) is a narrow ridge
    (correlation about -0.9999), which a diagonal mass matrix handles poorly.

    Arguments:
        x: the covariate [N].
        y: the responses [N], or None to sample them.
        prior_mean_alpha, prior_sd_alpha: the normal prior of the intercept alpha.
        prior_mean_beta, prior_sd_beta: the normal prior of the slope beta.

    Returns:
        None; a Pyro model with latent sites ``alpha``, ``beta``, ``sigma`` and observed site ``y``.

    Example:
        >>> x = torch.arange(3.0, dtype=torch.float64)
        >>> sorted(pyro.poutine.trace(kilpisjarvi).get_trace(x, None, 0.0, 1.0, 0.0, 1.0).stochastic_nodes)
        ['alpha', 'beta', 'data', 'sigma', 'y']
    """
    alpha = pyro.sample("alpha", dist.Normal(x.new_tensor(prior_mean_alpha), prior_sd_alpha))
    beta = pyro.sample("beta", dist.Normal(x.new_tensor(prior_mean_beta), prior_sd_beta))
    sigma = pyro.sample("sigma", flat_positive(x))
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(alpha + beta * x, sigma), obs=y)
