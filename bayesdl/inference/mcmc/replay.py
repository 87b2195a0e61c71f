"""Re-run a Pyro model at posterior draws: deterministic sites, per-observation log-likelihoods, replicated data."""

from __future__ import annotations

from collections.abc import Callable

import pyro
import pyro.poutine as poutine
import torch


def _trace_at(model: Callable, args: tuple, kwargs: dict, values: dict[str, torch.Tensor]) -> poutine.Trace:
    return poutine.trace(poutine.condition(model, values)).get_trace(*args, **kwargs)


def replay_sites(
    model: Callable,
    args: tuple,
    kwargs: dict,
    draws: dict[str, torch.Tensor],
    deterministic: list[str],
    observed: list[str],
    chunk: int = 1000,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Values of deterministic sites and log p(y_i | theta) of observed sites at each of S draws.

    Arguments:
        model, args, kwargs: the Pyro model and its data.
        draws: latent site name -> [S, *site_shape] (constrained values).
        deterministic, observed: the site names to collect.
        chunk: draws per vectorised (``vmap``) evaluation; models that cannot be vmapped fall back to a loop.

    Returns:
        ``(deterministic_values, log_likelihoods)``, each name -> [S, ...]; the log-likelihood keeps
        the batch (per-observation) shape of the site.

    Example:
        >>> import pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     pyro.deterministic("two_mu", 2 * mu)
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, 1.0), obs=y)
        >>> det, ll = replay_sites(model, (torch.zeros(2),), {}, {"mu": torch.zeros(4)}, ["two_mu"], ["y"])
        >>> tuple(det["two_mu"].shape), tuple(ll["y"].shape)
        ((4,), (4, 2))
    """
    if not deterministic and not observed:
        return {}, {}

    def one(values: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        with pyro.validation_enabled(False), torch.no_grad():
            trace = _trace_at(model, args, kwargs, values)
            det = {n: trace.nodes[n]["value"] for n in deterministic}
            ll = {n: trace.nodes[n]["fn"].log_prob(trace.nodes[n]["value"]) for n in observed}
        return det, ll

    num = next(iter(draws.values())).shape[0]
    try:
        parts = [
            torch.func.vmap(one)({k: v[i : i + chunk] for k, v in draws.items()})
            for i in range(0, num, chunk)
        ]
    except Exception:  # noqa: BLE001 - not vmappable (e.g. data-dependent Python control flow): loop instead
        parts = [
            tuple({k: v.unsqueeze(0) for k, v in d.items()} for d in one({k: v[i] for k, v in draws.items()}))
            for i in range(num)
        ]
    det = {n: torch.cat([p[0][n] for p in parts]) for n in deterministic}
    ll = {n: torch.cat([p[1][n] for p in parts]) for n in observed}
    return det, ll


def replicate_observed(
    model: Callable, args: tuple, kwargs: dict, samples: dict[str, torch.Tensor], latent: list[str]
) -> dict[str, torch.Tensor]:
    """Draw a replicate of every observed site from its likelihood at each posterior draw.

    Arguments:
        model, args, kwargs: the Pyro model and its data (observed sites keep their ``obs``).
        samples: site name -> [chain, draw, ...] posterior draws.
        latent: the latent site names to condition on.

    Returns:
        observed site name -> replicated data [chain, draw, *obs_shape] (uses torch's global RNG).

    Example:
        >>> import pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, 0.001), obs=y)
        >>> _ = torch.manual_seed(0)
        >>> mu_draws = torch.tensor([[5.0, 5.0, 5.0], [-5.0, -5.0, -5.0]])  # 2 chains x 3 draws
        >>> rep = replicate_observed(model, (torch.zeros(4),), {}, {"mu": mu_draws}, ["mu"])
        >>> tuple(rep["y"].shape), round(rep["y"][0].mean().item()), round(rep["y"][1].mean().item())
        ((2, 3, 4), 5, -5)

    References:
        Gelman, Meng & Stern (1996), Posterior predictive assessment of model fitness via realized
        discrepancies, Statistica Sinica 6(4).
    """
    chains, draws = next(iter(samples.values())).shape[:2]
    flat = {k: samples[k].reshape(chains * draws, *samples[k].shape[2:]) for k in latent}
    out: dict[str, list[torch.Tensor]] = {}
    with pyro.validation_enabled(False), torch.no_grad():
        for i in range(chains * draws):
            trace = _trace_at(model, args, kwargs, {k: v[i] for k, v in flat.items()})
            for name, site in trace.nodes.items():
                if (
                    site["type"] == "sample"
                    and site["is_observed"]
                    and not site["infer"].get("_deterministic")
                ):
                    out.setdefault(name, []).append(site["fn"].sample())
    return {k: torch.stack(v).reshape(chains, draws, *v[0].shape) for k, v in out.items()}
