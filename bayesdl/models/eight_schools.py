"""The eight schools hierarchical model (Rubin 1981), centred and non-centred, as Pyro model functions.

y_j ~ N(theta_j, sigma_j) with known sigma_j; theta_j ~ N(mu, tau); mu ~ N(0, 5); tau ~ HalfCauchy(5).
The centred form samples theta directly and has a funnel between tau and theta that makes HMC
diverge; the non-centred form samples theta_tilde ~ N(0, 1) and sets theta = mu + tau theta_tilde.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch

from ..errors import InputError
from ..validation import check_tensor

#: Estimated coaching effects and their standard errors (Rubin 1981, Table 2).
EIGHT_SCHOOLS_Y = (28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0)
EIGHT_SCHOOLS_SIGMA = (15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0)


def eight_schools_data(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The observed effects y [8] and their standard errors sigma [8].

    Arguments:
        dtype: the dtype of both tensors (float64 by default, as MCMC diagnostics prefer).

    Returns:
        ``(y, sigma)``: the estimated coaching effects and their standard errors (SAT points), each [8].

    Example:
        >>> y, sigma = eight_schools_data()
        >>> y.shape, float(sigma[0])
        (torch.Size([8]), 15.0)

    References:
        Rubin (1981), Estimation in parallel randomized experiments, J. Educ. Stat. 6(4), Table 2.
    """
    return torch.tensor(EIGHT_SCHOOLS_Y, dtype=dtype), torch.tensor(EIGHT_SCHOOLS_SIGMA, dtype=dtype)


def check_schools_data(y: torch.Tensor | None, sigma: torch.Tensor) -> None:
    """Raise InputError unless sigma is a finite, positive 1-D tensor and y (when given) is finite with its shape.

    The model functions call it on every eager evaluation; inside ``torch.jit.trace`` (bayesdl's compiled NUTS
    potential) it is skipped, because the data were checked on the eager call that precedes the trace.

    Example:
        >>> y, sigma = eight_schools_data()
        >>> try:
        ...     check_schools_data(y, -sigma)
        ... except InputError as err:
        ...     print(err)
        sigma must hold positive standard errors; found -15
    """
    if torch.jit.is_tracing():
        return
    check_tensor(sigma, "sigma", ndim=1, floating=True)
    if not bool((sigma > 0).all()):
        raise InputError(f"sigma must hold positive standard errors; found {float(sigma[sigma <= 0][0]):g}")
    if y is not None:
        check_tensor(y, "y", shape=[sigma.shape[0]], floating=True)


def eight_schools_centered(y: torch.Tensor | None, sigma: torch.Tensor) -> None:
    """Centred eight schools: theta_j ~ N(mu, tau) sampled directly (a funnel: expect divergences).

    Arguments:
        y: the observed effects [J] (e.g. from :func:`eight_schools_data`), or None to sample them
            (prior or posterior predictive).
        sigma: their known standard errors [J], positive; J schools.

    Returns:
        None; a Pyro model function with latent sites mu, tau and theta [J] and observed site y.

    Example:
        >>> y, sigma = eight_schools_data()
        >>> sorted(pyro.poutine.trace(eight_schools_centered).get_trace(y, sigma).stochastic_nodes)
        ['mu', 'school', 'tau', 'theta']

    References:
        Rubin (1981), Estimation in parallel randomized experiments, J. Educ. Stat. 6(4);
        Betancourt & Girolami (2013), Hamiltonian Monte Carlo for hierarchical models, arXiv:1312.0906.
    """
    check_schools_data(y, sigma)
    zero = sigma.new_zeros(())
    mu = pyro.sample("mu", dist.Normal(zero, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(zero + 5.0))
    with pyro.plate("school", sigma.shape[0]):
        theta = pyro.sample("theta", dist.Normal(mu, tau))
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)


def eight_schools_noncentered(y: torch.Tensor | None, sigma: torch.Tensor) -> None:
    """Non-centred eight schools: theta_tilde_j ~ N(0, 1), theta_j = mu + tau theta_tilde_j (deterministic).

    Arguments:
        y: the observed effects [J] (e.g. from :func:`eight_schools_data`), or None to sample them
            (prior or posterior predictive).
        sigma: their known standard errors [J], positive; J schools.

    Returns:
        None; a Pyro model function with latent sites mu, tau and theta_tilde [J] (theta is a deterministic site) and observed site y.

    Example:
        >>> y, sigma = eight_schools_data()
        >>> sorted(pyro.poutine.trace(eight_schools_noncentered).get_trace(y, sigma).stochastic_nodes)
        ['mu', 'school', 'tau', 'theta_tilde']

    References:
        Papaspiliopoulos, Roberts & Skold (2007), A general framework for the parametrization of
        hierarchical models, Stat. Sci. 22(1); Betancourt & Girolami (2013), arXiv:1312.0906.
    """
    check_schools_data(y, sigma)
    zero = sigma.new_zeros(())
    mu = pyro.sample("mu", dist.Normal(zero, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(zero + 5.0))
    with pyro.plate("school", sigma.shape[0]):
        theta_tilde = pyro.sample("theta_tilde", dist.Normal(zero, 1.0))
        theta = pyro.deterministic("theta", mu + tau * theta_tilde)
        pyro.sample("y", dist.Normal(theta, sigma), obs=y)
