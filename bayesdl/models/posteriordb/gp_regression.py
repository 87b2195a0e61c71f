"""posteriordb's ``gp_pois_regr-gp_regr``: the hyperparameters of a GP regression with the GP integrated out.

y ~ N(0, K + sigma I) with K_ij = alpha^2 exp(-(x_i - x_j)^2 / (2 rho^2)); rho ~ Gamma(25, 4),
alpha ~ half-N(0, 2), sigma ~ half-N(0, 1). As in the Stan program, sigma (not sigma^2) is added to
the diagonal. Each density evaluation factorises the N x N covariance (a Cholesky inside the model).
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch


def gp_regression(x: torch.Tensor, y: torch.Tensor | None) -> None:
    """The marginal likelihood of a squared-exponential GP, with priors on (rho, alpha, sigma).

    Arguments:
        x: the inputs [N].
        y: the outputs [N], or None to sample them.

    Returns:
        None; a Pyro model with latent sites ``rho``, ``alpha``, ``sigma`` and observed site ``y``.

    Example:
        >>> x = torch.linspace(0, 1, 4, dtype=torch.float64)
        >>> sorted(pyro.poutine.trace(gp_regression).get_trace(x, None).stochastic_nodes)
        ['alpha', 'rho', 'sigma', 'y']

    References:
        Rasmussen & Williams (2006), Gaussian Processes for Machine Learning, eq. 2.30; posteriordb
        (Magnusson et al. 2024, arXiv:2407.04967).
    """
    zero = x.new_zeros(())
    rho = pyro.sample("rho", dist.Gamma(zero + 25.0, zero + 4.0))
    alpha = pyro.sample("alpha", dist.HalfNormal(zero + 2.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(zero + 1.0))
    diff = x.unsqueeze(-1) - x.unsqueeze(-2)
    cov = alpha**2 * torch.exp(-0.5 * (diff / rho) ** 2) + sigma * torch.eye(
        x.shape[0], dtype=x.dtype, device=x.device
    )
    scale_tril = torch.linalg.cholesky(cov)
    pyro.sample("y", dist.MultivariateNormal(x.new_zeros(x.shape[0]), scale_tril=scale_tril), obs=y)
