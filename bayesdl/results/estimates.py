"""Estimates with their uncertainty: log partition functions, importance-sampled log-likelihoods, ELBO terms.

Every estimator of bayesdl returns one of these, so that a number never travels without its standard
error (or without the label "bound" when it is one). They sit below both the models and the inference
layer, which fill them; this module imports only torch.

* :class:`LogPartitionEstimate`: log Z from exact enumeration or annealed importance sampling (Neal 2001,
  arXiv:physics/9803008), with the delta-method standard error and the three-sigma bounds that
  Salakhutdinov & Murray (2008, ICML) report; :func:`summarize_log_weights` builds it from AIS weights.
* :class:`LogLikelihoodEstimate`: per-example importance-sampled log p(x) with its standard error and
  effective sample size (Burda, Grosse & Salakhutdinov 2015, arXiv:1509.00519).
* :class:`ELBOTerms`: the reconstruction and KL parts of the evidence lower bound per example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class LogPartitionEstimate:
    """An estimate of log Z with its uncertainty.

    Attributes:
        log_z: the estimate of log Z (nats).
        log_z_std_err: its standard error in log space (0 for exact enumeration).
        log_z_lower: log(Z_hat - 3 sigma_hat); -inf when 3 sigma_hat >= Z_hat.
        log_z_upper: log(Z_hat + 3 sigma_hat).
        method: "exact" or "ais".
        num_chains: AIS runs (0 for exact).
        num_betas: intermediate distributions including both ends (0 for exact).
        log_weights: the final log importance weights of the AIS runs, shape [num_chains] float64
            (None for exact).

    Example:
        >>> exact = LogPartitionEstimate.exact(math.log(3.0))
        >>> exact.method, exact.covers(math.log(3.0)), exact.covers(1.2)
        ('exact', True, False)
        >>> est = summarize_log_weights(torch.tensor([0.0, math.log(3.0)]))
        >>> round(est.log_z, 4), est.num_chains
        (0.6931, 2)
    """

    log_z: float
    log_z_std_err: float
    log_z_lower: float
    log_z_upper: float
    method: str
    num_chains: int = 0
    num_betas: int = 0
    log_weights: torch.Tensor | None = None

    @classmethod
    def exact(cls, log_z: float) -> LogPartitionEstimate:
        """Wrap an exactly computed log Z (zero uncertainty)."""
        return cls(log_z, 0.0, log_z, log_z, "exact")

    def covers(self, value: float, num_std_err: float = 3.0) -> bool:
        """Whether ``value`` lies within ``num_std_err`` standard errors of the estimate."""
        return abs(value - self.log_z) <= num_std_err * self.log_z_std_err + 1e-9


@dataclass
class LogLikelihoodEstimate:
    """Per-example importance-sampled log p(x) in nats with its delta-method standard error.

    Attributes:
        log_prob: the estimates log p_hat_K(x), shape [N].
        stderr: their standard errors, shape [N].
        ess: the effective sample size of each example's weights, shape [N].
        num_samples: K, the importance samples behind each estimate.

    Example:
        >>> est = LogLikelihoodEstimate(log_prob=torch.tensor([-2.0, -4.0]), stderr=torch.tensor([0.3, 0.4]),
        ...                             ess=torch.tensor([90.0, 60.0]), num_samples=100)
        >>> est.mean(), round(est.mean_stderr(), 4)
        (-3.0, 0.25)

    References:
        Burda, Grosse & Salakhutdinov (2015), Importance Weighted Autoencoders, arXiv:1509.00519.
    """

    log_prob: torch.Tensor
    stderr: torch.Tensor
    ess: torch.Tensor
    num_samples: int

    def mean(self) -> float:
        """The average log-likelihood per example (nats)."""
        return float(self.log_prob.mean())

    def mean_stderr(self) -> float:
        """The Monte Carlo standard error of :meth:`mean` (importance-sampling noise only, sqrt(sum SE^2)/N)."""
        return float(self.stderr.pow(2).sum().sqrt() / len(self.stderr))


@dataclass
class ELBOTerms:
    """Per-example parts of the ELBO in nats, each [N]: ``elbo = reconstruction - kl`` (a lower bound on log p(x)).

    Attributes:
        reconstruction: E_q[log p(x|z)] per example, shape [N] (nats).
        kl: KL(q(z|x) || p(z)) per example, shape [N] (nats, >= 0 up to Monte Carlo noise).
        elbo: the property reconstruction - kl, shape [N] (nats; a lower bound on log p(x)).

    Example:
        >>> t = ELBOTerms(reconstruction=torch.tensor([-5.0, -7.0]), kl=torch.tensor([1.0, 0.5]))
        >>> t.elbo
        tensor([-6.0000, -7.5000])

    References:
        Kingma & Welling (2013), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """

    reconstruction: torch.Tensor
    kl: torch.Tensor

    @property
    def elbo(self) -> torch.Tensor:
        return self.reconstruction - self.kl


def summarize_log_weights(
    log_w: torch.Tensor, log_z_base: float = 0.0, num_betas: int = 0
) -> LogPartitionEstimate:
    """Turn AIS log importance weights into log Z_hat with its standard error and 3-sigma bounds.

    Arguments:
        log_w: the final log importance weights of M runs, shape [M].
        log_z_base: log Z_0 of the base distribution.
        num_betas: the number of inverse temperatures behind the weights (recorded only).

    Returns:
        A :class:`LogPartitionEstimate` with method "ais".

    Example:
        >>> est = summarize_log_weights(torch.tensor([0.0, 0.0, 0.0]))
        >>> est.log_z, est.log_z_std_err
        (0.0, 0.0)
    """
    log_w = log_w.detach().double()
    m = len(log_w)
    if not bool(torch.isfinite(log_w).all()):
        raise FloatingPointError("AIS produced non-finite log importance weights")
    shift = float(log_w.max())
    w = torch.exp(log_w - shift)
    mean = float(w.mean())
    sd = float(w.std(unbiased=True)) if m > 1 else 0.0
    sigma = sd / math.sqrt(m)
    rel = sigma / mean
    log_z = log_z_base + shift + math.log(mean)
    lower = log_z + math.log(1.0 - 3.0 * rel) if 3.0 * rel < 1.0 else -math.inf
    upper = log_z + math.log(1.0 + 3.0 * rel)
    return LogPartitionEstimate(
        log_z=log_z,
        log_z_std_err=rel,
        log_z_lower=lower,
        log_z_upper=upper,
        method="ais",
        num_chains=m,
        num_betas=num_betas,
        log_weights=log_w.cpu(),
    )
