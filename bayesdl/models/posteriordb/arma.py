"""The ARMA(1, 1) time-series model of posteriordb (``arma-arma11``) as a Pyro model.

y_t = mu + phi y_{t-1} + theta e_{t-1} + e_t with e_t ~ N(0, sigma), e_0 = 0 and y_0 taken as mu.
Given the parameters, the one-step errors follow the linear recursion
e_t = r_t - theta e_{t-1},  r_t = y_t - mu - phi y_{t-1},
so e_t = sum_{s <= t} (-theta)^{t-s} r_s. It is evaluated with a parallel prefix scan (ceil(log2 T)
shifted multiply-adds instead of T sequential steps), which gives the same sums as the loop in the
Stan program in a handful of tensor operations.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch


def linear_recurrence(r: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """e_t = r_t + a e_{t-1} (e_{-1} = 0) along the last axis, by a Hillis-Steele prefix scan.

    Arguments:
        r: the inputs [..., T].
        a: the coefficient (a scalar tensor, or broadcastable to r[..., :1]).

    Returns:
        e [..., T].

    Example:
        >>> linear_recurrence(torch.tensor([1.0, 1.0, 1.0, 1.0]), torch.tensor(0.5)).tolist()
        [1.0, 1.5, 1.75, 1.875]

    References:
        Hillis & Steele (1986), Data parallel algorithms, Commun. ACM 29(12); Blelloch (1990),
        Prefix sums and their applications, CMU-CS-90-190.
    """
    e, power, shift, length = r, a, 1, r.shape[-1]
    while shift < length:
        e = torch.cat([e[..., :shift], e[..., shift:] + power * e[..., :-shift]], dim=-1)
        power, shift = power * power, 2 * shift
    return e


def arma11(y: torch.Tensor) -> None:
    """ARMA(1, 1) with mu ~ N(0, 10), phi, theta ~ N(0, 2), sigma ~ half-Cauchy(2.5), as in posteriordb.

    Arguments:
        y: the observed series [T].

    Returns:
        None; a Pyro model with latent sites ``mu``, ``phi``, ``theta``, ``sigma`` and the observed
        one-step errors' likelihood on site ``y``.

    Example:
        >>> sorted(pyro.poutine.trace(arma11).get_trace(torch.zeros(5, dtype=torch.float64)).stochastic_nodes)
        ['mu', 'phi', 'sigma', 'theta', 'time']

    References:
        Box & Jenkins (1970), Time Series Analysis: Forecasting and Control; posteriordb (Magnusson et al.
        2024, arXiv:2407.04967), posterior ``arma-arma11``.
    """
    zero = y.new_zeros(())
    mu = pyro.sample("mu", dist.Normal(zero, 10.0))
    phi = pyro.sample("phi", dist.Normal(zero, 2.0))
    theta = pyro.sample("theta", dist.Normal(zero, 2.0))
    sigma = pyro.sample("sigma", dist.HalfCauchy(zero + 2.5))
    previous = torch.cat([mu.unsqueeze(-1), y[:-1]])
    err = linear_recurrence(y - mu - phi * previous, -theta)
    with pyro.plate("time", y.shape[0]):
        # y_t | y_<t ~ N(y_t - e_t, sigma): the density of the errors e_t ~ N(0, sigma) at the data
        pyro.sample("y", dist.Normal(y - err, sigma), obs=y)
