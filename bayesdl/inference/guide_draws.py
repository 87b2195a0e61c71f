"""Draws from a trained SVI guide, packaged like an MCMC result so that the same diagnostics read both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyro.poutine as poutine
import torch
from pyro.poutine.util import site_is_subsample

from ..errors import InputError
from ..nn.pyro_params import module_local_params
from ..randomness import seeded_rng
from ..validation import check_positive_int
from .mcmc.posterior import Posterior
from .mcmc.replay import replay_sites


def guide_posterior(
    model: Callable, guide: Callable, *args: Any, num_samples: int = 500, seed: int | None = 0, **kwargs: Any
) -> Posterior:
    """Draw ``num_samples`` latent values from a guide q(theta) and return them as a one-chain :class:`Posterior`.

    The deterministic sites and the pointwise log-likelihood log p(y_i | theta_s) of every observed site are
    computed at each draw by re-running the model, so ``bayesdl.diagnostics.to_inference_data`` and PSIS-LOO
    work as for MCMC (Vehtari, Gelman & Gabry 2017, arXiv:1507.04544). The draws are independent, so R-hat
    and ESS of this single chain say nothing about convergence of the optimisation.

    Arguments:
        model, guide: a Pyro model and a trained guide (e.g. an autoguide).
        *args, **kwargs: the model arguments (with the observed data).
        num_samples: S, the number of guide draws.
        seed: seeds the guide draws (torch's global generator is restored afterwards); None draws fresh numbers.

    Returns:
        A :class:`Posterior` with one chain of S draws, ``observed_data`` and ``log_likelihood``; it has no
        sampler statistics and an empty unconstrained tensor [1, S, 0].

    Example:
        >>> import pyro, pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, 1.0), obs=y)
        >>> guide = pyro.infer.autoguide.AutoNormal(model)
        >>> post = guide_posterior(model, guide, torch.zeros(3), num_samples=10)
        >>> post.num_chains, post.num_draws, tuple(post.log_likelihood["y"].shape)
        (1, 10, (1, 10, 3))
    """
    check_positive_int(num_samples, "num_samples")
    # the guide's parameters stay in the guide (a guide bayesdl trained keeps them there; one trained by plain
    # Pyro holds them too), so drawing never writes into Pyro's global parameter store
    with seeded_rng(seed), torch.no_grad(), module_local_params(model, guide):
        trace = poutine.trace(model).get_trace(*args, **kwargs)
        latent = [
            n
            for n, s in trace.nodes.items()
            if s["type"] == "sample" and not s["is_observed"] and not site_is_subsample(s)
        ]
        if not latent:
            raise InputError("the model has no latent sites to draw")
        guide_traces = [poutine.trace(guide).get_trace(*args, **kwargs) for _ in range(num_samples)]
    flat = {n: torch.stack([t.nodes[n]["value"].detach() for t in guide_traces]) for n in latent}
    observed = {
        n: s["value"]
        for n, s in trace.nodes.items()
        if s["type"] == "sample" and s["is_observed"] and not s["infer"].get("_deterministic")
    }
    deterministic = [
        n for n, s in trace.nodes.items() if s["type"] == "sample" and s["infer"].get("_deterministic")
    ]
    with module_local_params(model, guide):
        det, ll = replay_sites(model, args, kwargs, flat, deterministic, list(observed))
    device = next(iter(flat.values())).device
    return Posterior(
        samples={k: v.unsqueeze(0) for k, v in {**flat, **det}.items()},
        sample_stats={},
        unconstrained=torch.empty(1, num_samples, 0, device=device),
        observed_data=observed,
        log_likelihood={k: v.unsqueeze(0) for k, v in ll.items()},
        model=model,
        model_args=args,
        model_kwargs=kwargs,
        latent_names=latent,
    )
