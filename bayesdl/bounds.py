"""Bounds on log p(x) of a latent-variable model, written once against its contract.

A latent-variable model (:class:`bayesdl.contracts.LatentVariableModel`) exposes a proposal q(z|x), a prior
p(z) and a likelihood p(x|z). Per example,

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x)

(Kingma & Welling 2013, arXiv:1312.6114), and with K draws z_k ~ q(z|x) the importance weights
w_k = p(x|z_k) p(z_k) / q(z_k|x) give the IWAE bound L_K = E[log (1/K) sum_k w_k], with
ELBO = L_1 <= L_K <= log p(x) (Burda, Grosse & Salakhutdinov 2015, arXiv:1509.00519).

The models train on these (``VAE.loss``) and the estimators of :mod:`bayesdl.inference.estimators` evaluate
with them, so both sides import this module and neither imports the other.
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution, kl_divergence

from .errors import InputError

__all__ = [
    "analytic_kl",
    "elbo_terms",
    "kl_to_prior",
    "log_importance_weights",
    "log_likelihood_given_latent",
]


def analytic_kl(q: Distribution, p: Distribution) -> torch.Tensor | None:
    """KL(q || p) per example in closed form when torch knows it (e.g. two diagonal Gaussians), else None.

    Arguments:
        q, p: two torch distributions with broadcastable batch shapes.

    Example:
        >>> q = torch.distributions.Normal(torch.zeros(3), 1.0)
        >>> analytic_kl(q, torch.distributions.Normal(0.0, 1.0))
        tensor([0., 0., 0.])
    """
    try:
        return kl_divergence(q, p)
    except NotImplementedError:
        return None


def kl_to_prior(q: Distribution, p: Distribution, z: torch.Tensor | None = None) -> torch.Tensor:
    """KL(q(z|x) || p(z)) per example [B]: closed form when there is one, else the Monte Carlo average of
    log q(z) - log p(z) over the given draws z [K, B, L] (or [B, L] for one draw).

    Arguments:
        q: the proposal, batch shape [B].
        p: the prior.
        z: draws from q, needed only when the pair has no closed form.

    Returns:
        The KL in nats per example, shape [B].

    Example:
        >>> from torch.distributions import Independent, Normal
        >>> q = Independent(Normal(torch.ones(2, 1), 1.0), 1)
        >>> kl_to_prior(q, Independent(Normal(torch.zeros(1), 1.0), 1))
        tensor([0.5000, 0.5000])
    """
    kl = analytic_kl(q, p)
    if kl is not None:
        return kl
    if z is None:
        raise InputError(
            "this posterior/prior pair has no closed-form KL: pass samples z for a Monte Carlo estimate"
        )
    kl = q.log_prob(z) - p.log_prob(z)
    has_sample_dim = z.dim() > len(q.batch_shape) + len(q.event_shape)
    return kl.mean(0) if has_sample_dim else kl


def log_likelihood_given_latent(model: object, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z), shape z.shape[:-1]: the model's direct ``log_likelihood(z, x)`` when it has one (no
    distribution object on the hot path), otherwise ``model.likelihood(z).log_prob(x)``.

    Arguments:
        model: a :class:`~bayesdl.contracts.LatentVariableModel`.
        z: latent codes [..., B, L].
        x: data [B, ...].

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> z, x = torch.zeros(5, 3, 2), torch.ones(3, 4)
        >>> torch.allclose(log_likelihood_given_latent(vae, z, x), vae.likelihood(z).log_prob(x))
        True
    """
    direct = getattr(model, "log_likelihood", None)
    return direct(z, x) if direct is not None else model.likelihood(z).log_prob(x)  # type: ignore[attr-defined]


def log_importance_weights(
    model: object, x: torch.Tensor, num_samples: int, kl_scale: float = 1.0
) -> torch.Tensor:
    """log w_k = log p(x|z_k) + c (log p(z_k) - log q(z_k|x)), z_k ~ q(z|x) reparameterised; shape [K, B].

    With c = ``kl_scale`` = 1 these are the importance weights of log p(x); gradients flow through the
    draws, so ``logsumexp(log_w, 0) - log K`` is the trainable IWAE bound.

    Arguments:
        model: a :class:`~bayesdl.contracts.LatentVariableModel`.
        x: data [B, ...] in the form the model's likelihood scores.
        num_samples: K, the number of draws z_k ~ q(z|x) per example.
        kl_scale: c, the weight on log p(z) - log q(z|x) (1 for true importance weights; c < 1 during KL
            warm-up).

    Returns:
        log w, shape [K, B], in nats.

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> log_importance_weights(vae, torch.ones(3, 4), num_samples=5).shape
        torch.Size([5, 3])

    References:
        Burda, Grosse & Salakhutdinov (2015), Importance Weighted Autoencoders, arXiv:1509.00519.
    """
    q = model.proposal(x)  # type: ignore[attr-defined]
    z = q.rsample(torch.Size([num_samples])) if q.has_rsample else q.sample(torch.Size([num_samples]))
    log_q = q.log_prob(z)
    log_prior = model.prior_distribution().log_prob(z)  # type: ignore[attr-defined]
    return log_likelihood_given_latent(model, z, x) + kl_scale * (log_prior - log_q)


def elbo_terms(model: object, x: torch.Tensor, num_samples: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example reconstruction E_q[log p(x|z)] (Monte Carlo with K = ``num_samples`` reparameterised draws)
    and KL(q(z|x) || p(z)) (closed form where it exists, else Monte Carlo over the same draws), each [B].

    Arguments:
        model: a :class:`~bayesdl.contracts.LatentVariableModel`.
        x: a batch [B, ...].
        num_samples: K draws of z per example.

    Returns:
        ``(reconstruction, kl)``, each of shape [B], in nats; differentiable when q is reparameterisable.

    Example:
        >>> from bayesdl.models.vae import VAE, MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([4], 2, [8]), MLPDecoder(2, [4], [8]))
        >>> rec, kl = elbo_terms(vae, torch.ones(3, 4), num_samples=2)
        >>> rec.shape, bool((kl >= 0).all())
        (torch.Size([3]), True)

    References:
        Kingma & Welling (2013), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """
    q = model.proposal(x)  # type: ignore[attr-defined]
    shape = torch.Size([] if num_samples == 1 else [num_samples])  # one draw: no sample dimension
    z = q.rsample(shape) if q.has_rsample else q.sample(shape)
    kl = kl_to_prior(q, model.prior_distribution(), z)  # type: ignore[attr-defined]
    reconstruction = log_likelihood_given_latent(model, z, x)
    return (reconstruction if num_samples == 1 else reconstruction.mean(0)), kl
