"""Honest evaluation of latent-variable models: importance-sampled log p(x), ELBO terms, active units.

The functions here work for any model that exposes the three densities of a latent-variable model
(the VAE does; so can a probabilistic PCA written in a few lines, as the tests do):

* ``model.proposal(x)``: a proposal q(z|x), a distribution with batch shape [B] supporting
  ``sample``/``rsample(sample_shape)`` and ``log_prob``;
* ``model.prior_distribution()``: p(z), with ``log_prob`` broadcasting over leading dimensions;
* ``model.likelihood(z)``: p(x|z) for z of shape [..., B, L], a distribution with batch shape
  [..., B] whose ``log_prob(x)`` takes x [B, ...].

Importance sampling (Burda, Grosse & Salakhutdinov 2015, arXiv:1509.00519): with z_k ~ q(z|x) and
w_k = p(x|z_k) p(z_k) / q(z_k|x),

    log p_hat_K(x) = log (1/K) sum_k w_k,

whose expectation is the IWAE bound L_K: it increases with K and tends to log p(x). It is a
stochastic lower bound in expectation, so over a test set it can only err on the low side
(up to Monte Carlo noise).

Standard error (delta method): p_hat is a mean of K i.i.d. weights, so
Var(log p_hat) ~ Var(w) / (K E[w]^2) and

    SE = sqrt( (mean(w^2) / mean(w)^2 - 1) * K/(K-1) / K ),

computed in log space from running log-sum-exps of log w and 2 log w, so chunks of samples can
be combined without storing all K weights. The effective sample size K / (mean(w^2)/mean(w)^2)
is returned beside it. Both are estimates from the same weights: when q misses a mode of the
posterior the weights look well behaved and the SE is too small, and the estimate is biased low.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ..validation import check_positive_int


class LatentVariableModel(Protocol):
    """What the estimators need from a model: a proposal q(z|x), a prior p(z) and a likelihood p(x|z)."""

    def proposal(self, x: torch.Tensor) -> torch.distributions.Distribution: ...

    def prior_distribution(self) -> torch.distributions.Distribution: ...

    def likelihood(self, z: torch.Tensor) -> torch.distributions.Distribution: ...


def log_importance_weights(model: Any, x: torch.Tensor, num_samples: int, kl_scale: float = 1.0) -> torch.Tensor:
    """log w_k = log p(x|z_k) + c (log p(z_k) - log q(z_k|x)), z_k ~ q(z|x) reparameterised; shape [K, B].

    With c = ``kl_scale`` = 1 these are the importance weights of log p(x); gradients flow through
    the samples, so ``logsumexp(log_w, 0) - log K`` is the trainable IWAE bound.

    Arguments:
        model: a latent-variable model (see :class:`LatentVariableModel`).
        x: data [B, ...] in the form the model's likelihood scores.
        num_samples: K, the number of draws z_k ~ q(z|x) per example.
        kl_scale: c, the weight on log p(z) - log q(z|x) (1 for true importance weights; c < 1 during
            KL warm-up).

    Returns:
        log w, shape [K, B], in nats; differentiable with respect to the model's parameters when q is
        reparameterisable.

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> log_importance_weights(vae, torch.ones(3, 4), num_samples=5).shape
        torch.Size([5, 3])

    References:
        Burda, Grosse & Salakhutdinov (2015), Importance Weighted Autoencoders, arXiv:1509.00519.
    """
    q = model.proposal(x)
    z = q.rsample(torch.Size([num_samples])) if q.has_rsample else q.sample(torch.Size([num_samples]))
    log_q = q.log_prob(z)
    log_prior = model.prior_distribution().log_prob(z)
    direct = getattr(model, "log_likelihood", None)  # a model's direct formula, when it has one
    log_lik = direct(z, x) if direct is not None else model.likelihood(z).log_prob(x)
    return log_lik + kl_scale * (log_prior - log_q)


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


@contextlib.contextmanager
def seeded_rng(seed: int | None) -> Iterator[None]:
    """Run the block with torch's CPU generator seeded by ``seed`` and restore the previous state after;
    with ``seed=None`` the block uses (and advances) the global generator as usual."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@torch.no_grad()
def log_likelihood(model: Any, x: torch.Tensor, num_samples: int = 5000, batch_size: int = 100,
                   chunk_size: int = 500, seed: int | None = None) -> LogLikelihoodEstimate:
    """Importance-sampled log p(x) per example with K samples from the model's proposal.

    Examples are processed ``batch_size`` at a time and samples ``chunk_size`` at a time, combined
    with running log-sum-exps, so memory grows with batch_size * chunk_size, not with K.

    Arguments:
        model: a latent-variable model (see :class:`LatentVariableModel`).
        x: data [N, ...].
        num_samples: K importance samples per example (with K = 1 the standard error is NaN, with a warning).
        batch_size: examples per pass.
        chunk_size: samples per pass.
        seed: seeds the sampling (the global RNG state is restored afterwards).

    Returns:
        A :class:`LogLikelihoodEstimate` (log p_hat, SE, ESS per example).

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> est = log_likelihood(vae, torch.ones(3, 4), num_samples=50, chunk_size=20, seed=0)
        >>> est.log_prob.shape, bool((est.stderr >= 0).all())
        (torch.Size([3]), True)

    References:
        Burda, Grosse & Salakhutdinov (2015), Importance Weighted Autoencoders, arXiv:1509.00519.
    """
    k = check_positive_int(num_samples, "num_samples")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(chunk_size, "chunk_size")
    if k == 1:
        import warnings

        warnings.warn("log_likelihood with num_samples=1 has no standard error (it is NaN); use num_samples >= 2",
                      stacklevel=2)
    was_training = getattr(model, "training", False)
    if hasattr(model, "train"):
        model.train(False)
    estimates, errors, ess = [], [], []
    try:
        with seeded_rng(seed):
            for start in range(0, len(x), batch_size):
                xb = x[start : start + batch_size]
                lse1 = lse2 = None
                for done in range(0, k, chunk_size):
                    log_w = log_importance_weights(model, xb, min(chunk_size, k - done))
                    a, b = torch.logsumexp(log_w, 0), torch.logsumexp(2 * log_w, 0)
                    lse1 = a if lse1 is None else torch.logaddexp(lse1, a)
                    lse2 = b if lse2 is None else torch.logaddexp(lse2, b)
                log_mean = lse1 - math.log(k)
                # mean(w^2) / mean(w)^2, from log-sum-exps: K * sum w^2 / (sum w)^2
                ratio = torch.exp(lse2 - 2 * lse1 + math.log(k))
                # one sample has no spread to estimate its error from: the standard error is unknown (NaN)
                var_rel = (ratio - 1).clamp(min=0) * (k / (k - 1)) if k > 1 else torch.full_like(ratio, math.nan)
                estimates.append(log_mean)
                errors.append((var_rel / k).sqrt())
                ess.append(k / ratio)
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    return LogLikelihoodEstimate(torch.cat(estimates), torch.cat(errors), torch.cat(ess), k)


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


@torch.no_grad()
def elbo_terms(model: Any, x: torch.Tensor, num_samples: int = 1, batch_size: int = 500, seed: int | None = None) -> ELBOTerms:
    """E_q[log p(x|z)] (Monte Carlo with ``num_samples``) and KL(q(z|x) || p(z)) per example.

    The KL is in closed form when torch knows it for the pair (e.g. diagonal Gaussians), otherwise
    the Monte Carlo average of log q(z) - log p(z) over the same samples.

    Arguments:
        model: a latent-variable model (see :class:`LatentVariableModel`).
        x: data [N, ...].
        num_samples: draws z ~ q(z|x) per example for the reconstruction term (and a Monte Carlo KL).
        batch_size: examples per pass.
        seed: seeds the sampling (the global RNG state is restored afterwards).

    Returns:
        An :class:`ELBOTerms` with reconstruction and KL of shape [N], in nats per example.

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> t = elbo_terms(vae, torch.ones(3, 4), num_samples=4, seed=0)
        >>> bool((t.kl >= 0).all()), t.elbo.shape
        (True, torch.Size([3]))

    References:
        Kingma & Welling (2013), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """
    check_positive_int(num_samples, "num_samples")
    check_positive_int(batch_size, "batch_size")
    recs, kls = [], []
    with seeded_rng(seed):
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            q = model.proposal(xb)
            p = model.prior_distribution()
            z = q.sample(torch.Size([num_samples]))
            recs.append(model.likelihood(z).log_prob(xb).mean(0))
            try:
                kls.append(torch.distributions.kl_divergence(q, p))
            except NotImplementedError:
                kls.append((q.log_prob(z) - p.log_prob(z)).mean(0))
    return ELBOTerms(torch.cat(recs), torch.cat(kls))


@torch.no_grad()
def posterior_means(model: Any, x: torch.Tensor, batch_size: int = 500, num_samples: int = 100) -> torch.Tensor:
    """E_q[z | x] per example [N, L]: the proposal's ``mean`` if it has one, else a Monte Carlo average.

    Arguments:
        model: a latent-variable model (only its ``proposal(x)`` is used).
        x: data [N, ...].
        batch_size: examples per pass.
        num_samples: draws per example for the Monte Carlo average when q has no closed-form mean.

    Returns:
        The posterior means, shape [N, L] (in the units of the latent space).

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> _ = torch.manual_seed(0)
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> x = torch.ones(5, 4)
        >>> means = posterior_means(vae, x, batch_size=2)
        >>> means.shape, torch.allclose(means, vae.proposal(x).mean)
        (torch.Size([5, 2]), True)
    """
    out = []
    for start in range(0, len(x), batch_size):
        q = model.proposal(x[start : start + batch_size])
        try:
            out.append(q.mean)
        except NotImplementedError:
            out.append(q.sample(torch.Size([num_samples])).mean(0))
    return torch.cat(out)


@torch.no_grad()
def active_units(model: Any, x: torch.Tensor, threshold: float = 0.01, batch_size: int = 500) -> tuple[int, torch.Tensor]:
    """The number of active latent units: A_u = Cov_x(E_q[z_u | x]) > threshold (Burda et al. 2015, sec. 5.2).

    Arguments:
        model: a latent-variable model (only its ``proposal(x)`` is used).
        x: data [N, ...], with N >= 2 for a variance (N = 1 reports no active unit).
        threshold: the activity (variance of the posterior mean over the data) above which a unit
            counts as active; 0.01 as in the paper.
        batch_size: examples per pass.

    Returns:
        ``(count, activity)`` with activity [L] the variance over the data of each posterior mean.

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 3, [8]), MLPDecoder(3, [4], [8]))
        >>> x = torch.bernoulli(torch.full((20, 4), 0.5), generator=torch.Generator().manual_seed(0))
        >>> count, activity = active_units(vae, x)
        >>> activity.shape, 0 <= count <= 3
        (torch.Size([3]), True)

    References:
        Burda, Grosse & Salakhutdinov (2015), Importance Weighted Autoencoders, arXiv:1509.00519.
    """
    means = posterior_means(model, x, batch_size)
    activity = means.var(0, unbiased=True) if len(means) > 1 else torch.zeros(means.shape[-1])
    return int((activity > threshold).sum()), activity
