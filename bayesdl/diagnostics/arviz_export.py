"""The one place where bayesdl results become ArviZ ``InferenceData`` (and where ArviZ statistics are called).

Keeping every ArviZ conversion here means that moving to a new ArviZ major version is one change.
MCMC draws keep their chains; draws from an SVI guide become a single chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import arviz as az
import numpy as np
import torch

from ..errors import InputError

#: bayesdl's per-draw statistics under the names ArviZ expects in ``sample_stats``.
SAMPLE_STAT_NAMES = {
    "diverging": "diverging",
    "energy": "energy",
    "tree_depth": "tree_depth",
    "n_steps": "n_steps",
    "step_size": "step_size",
    "acceptance_rate": "acceptance_rate",
    "reached_max_treedepth": "reached_max_treedepth",
    "lp": "lp",
}


def _numpy(values: dict[str, torch.Tensor] | None) -> dict[str, np.ndarray] | None:
    if not values:
        return None
    return {k: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)) for k, v in values.items()}


def posterior_to_inference_data(samples: dict[str, torch.Tensor], sample_stats: dict[str, torch.Tensor] | None = None,
                                observed_data: dict[str, torch.Tensor] | None = None,
                                log_likelihood: dict[str, torch.Tensor] | None = None,
                                posterior_predictive: dict[str, torch.Tensor] | None = None) -> az.InferenceData:
    """Build ``InferenceData`` from draws shaped [chain, draw, ...].

    Arguments:
        samples: site -> [chain, draw, *shape] posterior draws (constrained space).
        sample_stats: statistic -> [chain, draw]; renamed to ArviZ's names (diverging, energy, ...).
        observed_data: observed site -> data.
        log_likelihood: observed site -> [chain, draw, *obs_shape] pointwise log-likelihood (for LOO/WAIC).
        posterior_predictive: observed site -> [chain, draw, *obs_shape] replicated data.

    Returns:
        ``arviz.InferenceData`` with the groups that were given.

    Example:
        >>> idata = posterior_to_inference_data({"mu": torch.zeros(2, 5)}, {"diverging": torch.zeros(2, 5, dtype=torch.bool)})
        >>> sorted(idata.groups())
        ['posterior', 'sample_stats']

    References:
        Kumar, Carroll, Hartikainen & Martin (2019), ArviZ a unified library for exploratory analysis of
        Bayesian models in Python, JOSS 4(33).
    """
    if not samples:
        raise InputError("samples is empty: there are no draws to convert")
    stats = None
    if sample_stats:
        stats = {SAMPLE_STAT_NAMES.get(k, k): v for k, v in sample_stats.items()}
    obs = _numpy(observed_data)
    dims: dict[str, list[str]] = {}
    coords: dict[str, Any] = {}
    # give each observed site one named observation dimension shared by all groups that hold it
    for name, value in (observed_data or {}).items():
        shape = tuple(value.shape)
        names = [f"{name}_dim_{i}" for i in range(len(shape))]
        dims[name] = names
        coords.update({n: np.arange(s) for n, s in zip(names, shape)})
    return az.from_dict(posterior=_numpy(samples), sample_stats=_numpy(stats), observed_data=obs,
                        log_likelihood=_numpy(log_likelihood), posterior_predictive=_numpy(posterior_predictive),
                        dims=dims or None, coords=coords or None)


def guide_to_inference_data(model: Callable, guide: Callable, *args: Any, num_samples: int = 500, seed: int = 0,
                            **kwargs: Any) -> az.InferenceData:
    """Draw ``num_samples`` latent values from an SVI guide and export them as one chain.

    The pointwise log-likelihood of every observed site is added, so ``az.loo`` works as for MCMC.

    Arguments:
        model, guide: a Pyro model and a trained guide (e.g. an autoguide).
        *args, **kwargs: the model arguments (with the observed data).
        num_samples: the number of guide draws.
        seed: seeds the guide draws.

    Returns:
        ``InferenceData`` with posterior (chain dimension 1), observed_data and log_likelihood.

    Example:
        >>> import pyro, pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, 1.0), obs=y)
        >>> guide = pyro.infer.autoguide.AutoNormal(model)
        >>> idata = guide_to_inference_data(model, guide, torch.zeros(3), num_samples=10)
        >>> idata.posterior["mu"].shape
        (1, 10)

    References:
        Kumar, Carroll, Hartikainen & Martin (2019), ArviZ, JOSS 4(33); Vehtari, Gelman & Gabry (2017),
        Practical Bayesian model evaluation using leave-one-out cross-validation and WAIC, arXiv:1507.04544.
    """
    import pyro
    import pyro.poutine as poutine
    from pyro.poutine.util import site_is_subsample

    from ..inference.mcmc.replay import replay_sites

    pyro.set_rng_seed(seed)
    with torch.no_grad():
        trace = poutine.trace(model).get_trace(*args, **kwargs)
        latent = [n for n, s in trace.nodes.items()
                  if s["type"] == "sample" and not s["is_observed"] and not site_is_subsample(s)]
        if not latent:
            raise InputError("the model has no latent sites to export")
        guide_traces = [poutine.trace(guide).get_trace(*args, **kwargs) for _ in range(num_samples)]
    flat = {n: torch.stack([t.nodes[n]["value"].detach() for t in guide_traces]) for n in latent}
    observed = {n: s["value"] for n, s in trace.nodes.items()
                if s["type"] == "sample" and s["is_observed"] and not s["infer"].get("_deterministic")}
    deterministic = [n for n, s in trace.nodes.items() if s["type"] == "sample" and s["infer"].get("_deterministic")]
    det, ll = replay_sites(model, args, kwargs, flat, deterministic, list(observed))
    samples = {k: v.unsqueeze(0) for k, v in {**flat, **det}.items()}
    return posterior_to_inference_data(samples, observed_data=observed,
                                       log_likelihood={k: v.unsqueeze(0) for k, v in ll.items()})


def arviz_summary(idata: az.InferenceData, **kwargs: Any) -> Any:
    """ArviZ's summary table (mean, sd, HDI, MCSE, bulk/tail ESS, R-hat) as a pandas DataFrame.

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group (e.g. from
            :func:`posterior_to_inference_data`).
        **kwargs: passed to ``arviz.summary`` (e.g. ``var_names``, ``hdi_prob``).

    Returns:
        A pandas DataFrame with one row per scalar parameter.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.randn(2, 100, generator=g)})
        >>> list(arviz_summary(idata).index)
        ['mu']

    References:
        Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), arXiv:1903.08008 (the ESS and R-hat columns).
    """
    return az.summary(idata, **kwargs)


def arviz_loo(idata: az.InferenceData, **kwargs: Any) -> Any:
    """PSIS-LOO (Vehtari, Gelman & Gabry 2017, arXiv:1507.04544) from the log_likelihood group.

    Arguments:
        idata: an ``arviz.InferenceData`` with ``posterior`` and pointwise ``log_likelihood`` groups.
        **kwargs: passed to ``arviz.loo`` (e.g. ``pointwise=True``).

    Returns:
        ArviZ's ELPDData: ``elpd_loo`` (expected log pointwise predictive density, nats, summed over
        observations), its standard error, ``p_loo`` and the Pareto k diagnostics.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.randn(2, 100, generator=g)},
        ...                                     log_likelihood={"y": -1.0 + 0.01 * torch.randn(2, 100, 3, generator=g)})
        >>> loo = arviz_loo(idata)
        >>> round(float(loo.elpd_loo), 3), bool((loo.pareto_k < 0.7).all())
        (-3.0, True)

    References:
        Vehtari, Gelman & Gabry (2017), Practical Bayesian model evaluation using leave-one-out
        cross-validation and WAIC, arXiv:1507.04544.
    """
    return az.loo(idata, **kwargs)


def arviz_bfmi(idata: az.InferenceData) -> np.ndarray:
    """Bayesian fraction of missing information per chain from the energy statistic (Betancourt 2016, arXiv:1604.00695).

    Arguments:
        idata: an ``arviz.InferenceData`` whose ``sample_stats`` hold the Hamiltonian ``energy`` [chain, draw].

    Returns:
        A numpy array [chain] of E-BFMI values; below about 0.3 signals poor energy exploration.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.zeros(2, 100)},
        ...                                     {"energy": torch.randn(2, 100, generator=g)})
        >>> arviz_bfmi(idata).shape
        (2,)

    References:
        Betancourt (2016), Diagnosing Suboptimal Cotangent Disintegrations in Hamiltonian Monte Carlo,
        arXiv:1604.00695.
    """
    return np.asarray(az.bfmi(idata))


def ess_and_rhat(idata: az.InferenceData) -> tuple[Any, Any, Any]:
    """Bulk ESS, tail ESS and rank-normalised split R-hat datasets (Vehtari et al. 2021, arXiv:1903.08008).

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group (e.g. from
            :func:`posterior_to_inference_data`).

    Returns:
        ``(ess_bulk, ess_tail, rhat)``, three xarray Datasets with one variable per posterior site.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> idata = posterior_to_inference_data({"mu": torch.randn(2, 100, generator=g)})
        >>> ess_bulk, ess_tail, rhat = ess_and_rhat(idata)
        >>> bool(float(rhat["mu"]) < 1.05), bool(float(ess_bulk["mu"]) > 50)
        (True, True)

    References:
        Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), Rank-normalization, folding, and localization:
        An improved R-hat for assessing convergence of MCMC, arXiv:1903.08008.
    """
    return az.ess(idata, method="bulk"), az.ess(idata, method="tail"), az.rhat(idata)


def merge_chains(parts: list[az.InferenceData]) -> az.InferenceData:
    """Merge InferenceData objects from separate runs of the same model into one, stacking their chains.

    This is how chains spread across GPUs (one process per GPU, each calling ``sample_posterior``
    with its own ``seed`` and ``device``) become one posterior: each process writes
    ``posterior.to_arviz().to_netcdf(f"part{rank}.nc")``, and one process merges the parts with
    ``merge_chains([az.from_netcdf(p) for p in paths])``. The chain coordinates are renumbered 0..C-1
    so that R-hat and ESS treat every chain as its own.

    Arguments:
        parts: at least one InferenceData with the same groups, variables and number of draws.

    Returns:
        One InferenceData whose chain dimension is the concatenation of the parts' chains.

    Example:
        >>> import numpy as np
        >>> a = az.from_dict(posterior={"mu": np.zeros((2, 50))})
        >>> b = az.from_dict(posterior={"mu": np.ones((3, 50))})
        >>> merge_chains([a, b]).posterior.sizes["chain"]
        5
    """
    if not parts:
        raise InputError("merge_chains needs at least one InferenceData")
    groups = [set(p.groups()) for p in parts]
    if any(g != groups[0] for g in groups):
        raise InputError(f"the parts have different groups: {[sorted(g) for g in groups]}")
    draws = {p.posterior.sizes["draw"] for p in parts}
    if len(draws) != 1:
        raise InputError(f"the parts have different numbers of draws: {sorted(draws)}")
    renumbered, offset = [], 0
    for part in parts:
        n = part.posterior.sizes["chain"]
        copy = part.copy()
        for group in copy.groups():
            dataset = getattr(copy, group)
            if "chain" in dataset.dims:
                setattr(copy, group, dataset.assign_coords(chain=np.arange(offset, offset + n)))
        renumbered.append(copy)
        offset += n
    return az.concat(*renumbered, dim="chain")


def rhat_of_draws(draws: torch.Tensor) -> torch.Tensor:
    """Rank-normalised split R-hat of any per-draw quantity, computed separately for each trailing entry.

    Use it for quantities that are identified when the parameters are not: the predictive mean of a Bayesian
    neural network at fixed inputs, for instance, is unchanged by permuting hidden units, so its R-hat shows
    whether chains agree on the function even when the weights' R-hat is large.

    Arguments:
        draws: tensor of shape [chain, draw, *shape] with at least 2 chains and 4 draws per chain.

    Returns:
        A float64 CPU tensor of shape ``shape`` with the R-hat of each entry (Vehtari et al. 2021, arXiv:1903.08008).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> mixed = torch.randn(4, 500, 3, generator=g)
        >>> bool((rhat_of_draws(mixed) < 1.01).all())
        True
        >>> stuck = mixed + torch.arange(4.0).view(4, 1, 1)  # each chain in its own place
        >>> bool((rhat_of_draws(stuck) > 1.5).all())
        True
    """
    if draws.dim() < 2 or draws.shape[0] < 2 or draws.shape[1] < 4:
        raise InputError(f"draws must have shape [chain >= 2, draw >= 4, ...], got {tuple(draws.shape)}")
    values = draws.detach().to("cpu", torch.float64)
    if not torch.isfinite(values).all():
        raise InputError("draws contain NaN or infinite values")
    dataset = az.convert_to_dataset({"q": values.numpy()})
    return torch.as_tensor(np.asarray(az.rhat(dataset)["q"].values, dtype=np.float64)).reshape(values.shape[2:])
