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

import math
from typing import Any

import torch

from ..bounds import elbo_terms as _batch_elbo_terms
from ..bounds import log_importance_weights
from ..contracts import LatentVariableModel
from ..errors import InputError
from ..progress import Progress, progress_counter
from ..randomness import seeded_rng
from ..results.estimates import ELBOTerms, LogLikelihoodEstimate
from ..validation import check_positive_int, check_tensor

__all__ = [
    "ELBOTerms",
    "LatentVariableModel",
    "LogLikelihoodEstimate",
    "active_units",
    "elbo_terms",
    "log_importance_weights",
    "log_likelihood",
    "posterior_means",
    "seeded_rng",
]


@torch.no_grad()
def log_likelihood(
    model: Any,
    x: torch.Tensor,
    num_samples: int = 5000,
    batch_size: int = 100,
    chunk_size: int = 500,
    seed: int | None = None,
    progress: Progress = False,
) -> LogLikelihoodEstimate:
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
        progress: count the N x K importance samples drawn: False (default, silent), True or a label for a
            bar, or a callable ``(done, total)`` (see :mod:`bayesdl.progress`).

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
    check_tensor(x, "x", finite=False)  # the model checks the values (NaN, support) itself
    if not hasattr(model, "proposal"):
        raise InputError(
            f"log_likelihood estimates log p(x) of a latent-variable model by importance sampling, but "
            f"{type(model).__name__} has no latent variable (no proposal q(z | x)); use its log_prob"
        )
    k = check_positive_int(num_samples, "num_samples")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(chunk_size, "chunk_size")
    if k == 1:
        import warnings

        warnings.warn(
            "log_likelihood with num_samples=1 has no standard error (it is NaN); use num_samples >= 2",
            stacklevel=2,
        )
    was_training = getattr(model, "training", False)
    if hasattr(model, "train"):
        model.train(False)
    estimates, errors, ess = [], [], []
    try:
        with (
            seeded_rng(seed),
            progress_counter(
                progress, len(x) * k, f"IWAE-{k} log-likelihood ({len(x)} examples)", "sample"
            ) as counter,
        ):
            for start in range(0, len(x), batch_size):
                xb = x[start : start + batch_size]
                lse1 = lse2 = None
                for done in range(0, k, chunk_size):
                    log_w = log_importance_weights(model, xb, min(chunk_size, k - done))
                    counter.update(len(xb) * min(chunk_size, k - done))
                    a, b = torch.logsumexp(log_w, 0), torch.logsumexp(2 * log_w, 0)
                    lse1 = a if lse1 is None else torch.logaddexp(lse1, a)
                    lse2 = b if lse2 is None else torch.logaddexp(lse2, b)
                log_mean = lse1 - math.log(k)
                # mean(w^2) / mean(w)^2, from log-sum-exps: K * sum w^2 / (sum w)^2
                ratio = torch.exp(lse2 - 2 * lse1 + math.log(k))
                # one sample has no spread to estimate its error from: the standard error is unknown (NaN)
                var_rel = (
                    (ratio - 1).clamp(min=0) * (k / (k - 1)) if k > 1 else torch.full_like(ratio, math.nan)
                )
                estimates.append(log_mean)
                errors.append((var_rel / k).sqrt())
                ess.append(k / ratio)
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    return LogLikelihoodEstimate(torch.cat(estimates), torch.cat(errors), torch.cat(ess), k)


@torch.no_grad()
def elbo_terms(
    model: Any, x: torch.Tensor, num_samples: int = 1, batch_size: int = 500, seed: int | None = None
) -> ELBOTerms:
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
    check_tensor(x, "x", finite=False)  # the model checks the values (NaN, support) itself
    check_positive_int(num_samples, "num_samples")
    check_positive_int(batch_size, "batch_size")
    recs, kls = [], []
    with seeded_rng(seed):
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            own = getattr(
                model, "elbo_terms", None
            )  # a model's own ELBO (e.g. the VAE's fast path), else the generic one
            rec, kl = own(xb, num_samples) if callable(own) else _batch_elbo_terms(model, xb, num_samples)
            recs.append(rec)
            kls.append(kl)
    return ELBOTerms(torch.cat(recs), torch.cat(kls))


@torch.no_grad()
def posterior_means(
    model: Any, x: torch.Tensor, batch_size: int = 500, num_samples: int = 100
) -> torch.Tensor:
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
    check_tensor(x, "x", finite=False)  # the model checks the values (NaN, support) itself
    out = []
    for start in range(0, len(x), batch_size):
        q = model.proposal(x[start : start + batch_size])
        try:
            out.append(q.mean)
        except NotImplementedError:
            out.append(q.sample(torch.Size([num_samples])).mean(0))
    return torch.cat(out)


@torch.no_grad()
def active_units(
    model: Any, x: torch.Tensor, threshold: float = 0.01, batch_size: int = 500
) -> tuple[int, torch.Tensor]:
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
    check_tensor(x, "x", finite=False)  # the model checks the values (NaN, support) itself
    means = posterior_means(model, x, batch_size)
    activity = means.var(0, unbiased=True) if len(means) > 1 else torch.zeros(means.shape[-1])
    return int((activity > threshold).sum()), activity
