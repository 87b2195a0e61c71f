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

from .._version import __version__
from ..contracts import HasFunctionDraws
from ..deprecation import warn_deprecated
from ..errors import InputError
from ..randomness import make_generator
from ..results.function_draws import FunctionDraws

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
    return {
        k: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
        for k, v in values.items()
    }


def _attrs(method: str, **extra: Any) -> dict[str, Any]:
    return {
        "inference_library": "bayesdl",
        "inference_library_version": __version__,
        "method": method,
        **extra,
    }


def _with_attrs(idata: az.InferenceData, attrs: dict[str, Any]) -> az.InferenceData:
    # az.from_dict keeps only its own created_at/arviz_version attributes, so set ours on every group
    for group in idata.groups():
        idata[group].attrs.update(attrs)
    return idata


def posterior_to_inference_data(
    samples: dict[str, torch.Tensor],
    sample_stats: dict[str, torch.Tensor] | None = None,
    observed_data: dict[str, torch.Tensor] | None = None,
    log_likelihood: dict[str, torch.Tensor] | None = None,
    posterior_predictive: dict[str, torch.Tensor] | None = None,
    *,
    coords: dict[str, Any] | None = None,
    dims: dict[str, list[str]] | None = None,
    method: str = "mcmc",
) -> az.InferenceData:
    """Build ``InferenceData`` from draws shaped [chain, draw, ...].

    Arguments:
        samples: site -> [chain, draw, *shape] posterior draws (constrained space).
        sample_stats: statistic -> [chain, draw]; renamed to ArviZ's names (diverging, energy, ...).
        observed_data: observed site -> data.
        log_likelihood: observed site -> [chain, draw, *obs_shape] pointwise log-likelihood (for LOO/WAIC).
        posterior_predictive: observed site -> [chain, draw, *obs_shape] replicated data.
        coords, dims: as in ``az.from_pyro``: coordinate values per dimension name, and the dimension names of
            each variable (after chain and draw); they override the default ``{site}_dim_{i}`` names.
        method: the ``method`` attribute of every group (next to ``inference_library="bayesdl"`` and its version).

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
    coords_arg, dims_arg = coords, dims
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
    for names in (dims_arg or {}).values():
        for name in names:
            coords.pop(name, None)  # a user's dimension gets ArviZ's default 0..n-1 unless given in coords
    dims.update(dims_arg or {})
    coords.update(coords_arg or {})
    coords = {k: v for k, v in coords.items() if any(k in names for names in dims.values())}
    idata = az.from_dict(
        posterior=_numpy(samples),
        sample_stats=_numpy(stats),
        observed_data=obs,
        log_likelihood=_numpy(log_likelihood),
        posterior_predictive=_numpy(posterior_predictive),
        dims=dims or None,
        coords=coords or None,
    )
    return _with_attrs(idata, _attrs(method))


def to_inference_data(
    posterior: Any,
    posterior_predictive: dict[str, torch.Tensor] | bool | None = None,
    *,
    coords: dict[str, Any] | None = None,
    dims: dict[str, list[str]] | None = None,
) -> az.InferenceData:
    """An ArviZ ``InferenceData`` from an MCMC or guide posterior: posterior, sample_stats, observed_data,
    log_likelihood and (when given, or ``True`` to draw it) posterior_predictive.

    Arguments:
        posterior: a :class:`bayesdl.inference.Posterior` (from ``sample_posterior`` or ``guide_posterior``),
            or any object with ``samples``, ``sample_stats``, ``observed_data`` and ``log_likelihood`` dicts of
            tensors shaped [chain, draw, ...].
        posterior_predictive: site -> [chain, draw, *obs_shape] replicated data; True to replicate every
            observed site from its likelihood at each draw (``posterior.replicate_observed()``); None for no
            such group.
        coords, dims: coordinate values and per-variable dimension names, as in ``az.from_pyro``
            (e.g. ``dims={"y": ["obs"], "w": ["feature"]}``).

    Returns:
        An ``arviz.InferenceData`` (for any predictive model, not an MCMC posterior, see
        :func:`predictive_to_inference_data`).

    Example:
        >>> from bayesdl.inference import Posterior
        >>> draws = torch.arange(10.0).reshape(2, 5)
        >>> post = Posterior(samples={"mu": draws}, sample_stats={"diverging": torch.zeros(2, 5, dtype=torch.bool)},
        ...                  unconstrained=draws.unsqueeze(-1))
        >>> sorted(to_inference_data(post).groups())
        ['posterior', 'sample_stats']

    References:
        Kumar, Carroll, Hartikainen & Martin (2019), ArviZ, JOSS 4(33).
    """
    if posterior_predictive is True:
        replicate = getattr(posterior, "replicate_observed", None)
        if not callable(replicate):
            raise InputError(
                f"posterior_predictive=True needs a posterior with replicate_observed(), not {type(posterior).__name__}"
            )
        posterior_predictive = replicate()
    return posterior_to_inference_data(
        posterior.samples,
        getattr(posterior, "sample_stats", None),
        observed_data=getattr(posterior, "observed_data", None),
        log_likelihood=getattr(posterior, "log_likelihood", None),
        posterior_predictive=posterior_predictive or None,
        coords=coords,
        dims=dims,
        method="mcmc" if getattr(posterior, "sample_stats", None) else "guide",
    )


def predictive_to_inference_data(
    source: Any,
    x: torch.Tensor | None = None,
    y: torch.Tensor | None = None,
    *,
    num_samples: int | None = None,
    seed: int | None = 0,
    coords: dict[str, Any] | None = None,
    dims: dict[str, list[str]] | None = None,
    observed_name: str = "y",
) -> az.InferenceData:
    """An ArviZ ``InferenceData`` for any predictive model: BBB, MC dropout, ensembles, GPs, Laplace, SWAG,
    SG-MCMC chains, Pyro BNNs.

    ``source`` is a :class:`~bayesdl.results.FunctionDraws` or a model with ``predictive_draws``
    (:class:`~bayesdl.contracts.HasFunctionDraws`), called at ``x``. The groups:

    * ``posterior``: the function values ``f`` [chain, draw, obs(, output)] (regression means) or ``probs``
      [chain, draw, obs, class], and the parameter draws where the method has them (SG-MCMC, SWAG, Laplace with
      ``predictive="nn"``). The function values are here so that ArviZ can compute LOO's relative ESS;
    * ``posterior_predictive``: the same function values, and ``y`` replicated from the likelihood at every draw;
    * with ``y``: ``observed_data`` and the pointwise ``log_likelihood`` [chain, draw, obs] (nats, normalised),
      so ``az.loo``, ``az.waic`` and ``az.compare`` work.

    Every group carries ``inference_library="bayesdl"``, its version, ``method``, ``bayesian`` (1 when the
    draws are posterior draws; 0 for ensemble members, dropout masks or a point estimate: LOO then scores the
    fixed mixture of draws, see :mod:`bayesdl.results.function_draws`) and ``draw``, what one draw is.

    Arguments:
        source: a ``FunctionDraws`` or a model with ``predictive_draws(x, num_samples, *, seed)``.
        x: inputs [B, ...] (needed with a model).
        y: targets [B] (labels or reals) or [B, K], or None for no likelihood groups.
        num_samples: S, draws per chain for a model (None: the model's default; all stored draws of SG-MCMC chains).
        seed: fixes the model's draws and the replicated ``y`` (None: fresh draws from the global generator).
        coords, dims: coordinate values and dimension names overriding the defaults ``obs``, ``output``,
            ``class`` and ``{parameter}_dim_{i}`` (the log-likelihood's are given as ``{observed_name}_log_likelihood``).
        observed_name: the name of the observed variable.

    Returns:
        The ``InferenceData``.

    Example:
        >>> from bayesdl.models import MLP, MCDropout
        >>> model = MCDropout(MLP(1, [16], 1, dropout=0.2), likelihood="homoscedastic")
        >>> idata = predictive_to_inference_data(model, torch.randn(8, 1), torch.randn(8), num_samples=20)
        >>> idata.log_likelihood["y"].dims, idata.posterior.attrs["method"], idata.posterior.attrs["bayesian"]
        (('chain', 'draw', 'obs'), 'mc_dropout', 0)
    """
    if isinstance(source, FunctionDraws):
        draws = source
    elif isinstance(source, HasFunctionDraws):
        if x is None:
            raise InputError(f"x (the inputs) is needed to draw from {type(source).__name__}")
        with torch.no_grad():
            draws = (
                source.predictive_draws(x, seed=seed)
                if num_samples is None
                else source.predictive_draws(x, num_samples, seed=seed)
            )
    else:
        raise InputError(
            f"source must be FunctionDraws or a model with predictive_draws(), not {type(source).__name__}"
        )
    values = draws.values.detach()
    function_name = "f" if draws.kind == "regression" else "probs"
    value_dims = ["obs"] + (["output"] if draws.kind == "regression" and values.dim() == 4 else [])
    if draws.kind == "classification":
        value_dims.append("class")
    all_dims: dict[str, list[str]] = {
        function_name: value_dims,
        observed_name: value_dims if draws.kind == "regression" else ["obs"],
    }
    posterior = {function_name: values}
    for name, value in draws.parameters.items():
        posterior[name] = value.detach()
        all_dims[name] = [f"{name}_dim_{i}" for i in range(value.dim() - 2)]
    all_dims.update(dims or {})
    generator = make_generator(seed, None, values.device)
    with torch.no_grad():
        replicated = draws.replicate(generator)
    groups: dict[str, Any] = {
        "posterior": posterior,
        "posterior_predictive": {function_name: values, observed_name: replicated},
    }
    if y is not None:
        groups["observed_data"] = {observed_name: y}
    used = {d for names in all_dims.values() for d in names}
    coords = {k: v for k, v in (coords or {}).items() if k in used}
    attrs = _attrs(draws.method, bayesian=int(draws.bayesian), draw=draws.note)
    idata = az.from_dict(**{k: _numpy(v) for k, v in groups.items()}, dims=all_dims, coords=coords or None)
    if y is not None:
        # one log-density per observation (summed over a multi-output regression's outputs): its own dims
        obs_dims = {observed_name: (dims or {}).get(f"{observed_name}_log_likelihood", ["obs"])}
        # float64: PSIS (the generalised Pareto fit, the log-sum-exps) loses its accuracy, and can give NaN, in float32
        log_lik = az.dict_to_dataset(
            _numpy({observed_name: draws.log_likelihood(y).detach().double()}),
            attrs=attrs,
            dims=obs_dims,
            coords={k: v for k, v in coords.items() if k in obs_dims[observed_name]} or None,
        )
        idata.add_groups(log_likelihood=log_lik)
    return _with_attrs(idata, attrs)


def compare_methods(idatas: dict[str, az.InferenceData], ic: str = "loo", **kwargs: Any) -> Any:
    """Rank methods by their expected log pointwise predictive density (``az.compare``), with what a draw is.

    Arguments:
        idatas: method name -> ``InferenceData`` with a pointwise ``log_likelihood`` of the same observations
            (e.g. from :func:`predictive_to_inference_data`).
        ic: ``"loo"`` (PSIS-LOO, Vehtari, Gelman & Gabry 2017, arXiv:1507.04544) or ``"waic"``.
        **kwargs: passed to ``az.compare`` (e.g. ``method="stacking"``).

    Returns:
        ``az.compare``'s DataFrame (rank, elpd, p, elpd difference, weight, se, dse, warning, scale; elpd in nats
        summed over observations), plus a ``bayesian`` column: False where the draws are not posterior draws
        (ensemble members, dropout masks), where LOO scores the fixed mixture of draws rather than
        cross-validating a posterior.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> def fake(shift):
        ...     f = shift + 0.1 * torch.randn(2, 50, 10, generator=g)
        ...     return predictive_to_inference_data(FunctionDraws("toy", means=f, noise_variances=torch.ones_like(f)),
        ...                                         y=torch.zeros(10))
        >>> list(compare_methods({"near": fake(0.0), "far": fake(2.0)}).index)
        ['near', 'far']
    """
    if len(idatas) < 2:
        raise InputError(f"compare_methods needs at least two methods, got {len(idatas)}")
    table = az.compare(dict(idatas), ic=ic, **kwargs)
    table["bayesian"] = [bool(idatas[name].posterior.attrs.get("bayesian", 1)) for name in table.index]
    return table


def guide_to_inference_data(
    model: Callable, guide: Callable, *args: Any, num_samples: int = 500, seed: int = 0, **kwargs: Any
) -> az.InferenceData:
    """Deprecated: ``to_inference_data(bayesdl.inference.guide_posterior(model, guide, *args, ...))``.

    Diagnostics read inference results and never run inference; drawing from the guide and replaying the
    model moved to :func:`bayesdl.inference.guide_posterior`.

    Arguments:
        model, guide: a Pyro model and a trained guide.
        *args, **kwargs: the model arguments (with the observed data).
        num_samples: the number of guide draws.
        seed: seeds the guide draws.

    Returns:
        ``InferenceData`` with one chain: posterior, observed_data and log_likelihood.

    Example:
        >>> import pyro, pyro.distributions as dist
        >>> def model(y):
        ...     mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        ...     with pyro.plate("data", len(y)):
        ...         pyro.sample("y", dist.Normal(mu, 1.0), obs=y)
        >>> guide = pyro.infer.autoguide.AutoNormal(model)
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     idata = guide_to_inference_data(model, guide, torch.zeros(3), num_samples=10)
        >>> idata.posterior["mu"].shape
        (1, 10)
    """
    warn_deprecated(
        "guide_to_inference_data(model, guide, ...)",
        "bayesdl.diagnostics.to_inference_data(bayesdl.inference.guide_posterior(model, guide, ...))",
    )
    # deprecated shim: allowed in tests/test_layers.py until 0.3
    from ..inference.guide_draws import guide_posterior

    return to_inference_data(
        guide_posterior(model, guide, *args, num_samples=num_samples, seed=seed, **kwargs)
    )


def arviz_summary(idata: Any, **kwargs: Any) -> Any:
    """ArviZ's summary table (mean, sd, HDI, MCSE, bulk/tail ESS, R-hat) as a pandas DataFrame.

    Arguments:
        idata: an ``arviz.InferenceData`` with a ``posterior`` group (e.g. from
            :func:`posterior_to_inference_data`), or a :class:`bayesdl.inference.Posterior`.
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
    if not isinstance(idata, az.InferenceData) and hasattr(idata, "samples"):
        idata = to_inference_data(idata)
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
    ``to_inference_data(posterior).to_netcdf(f"part{rank}.nc")``, and one process merges the parts with
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
    return torch.as_tensor(np.asarray(az.rhat(dataset)["q"].values, dtype=np.float64)).reshape(
        values.shape[2:]
    )


def posterior_to_netcdf(posterior: Any, path: str | Any) -> Any:
    """Save an MCMC :class:`~bayesdl.inference.mcmc.Posterior` as a netCDF file through ArviZ, atomically.

    The file holds the ``InferenceData`` of :meth:`Posterior.to_arviz` (posterior, sample_stats,
    observed_data, log_likelihood) plus a ``bayesdl_sampler`` group with the flat unconstrained draws, the
    adapted step sizes and inverse mass, the latent site names and the timings. The model (a Python function)
    is not stored. netCDF holds arrays and attributes only, so reading a file runs no code.

    Arguments:
        posterior: the result of :func:`~bayesdl.inference.mcmc.sample_posterior`.
        path: the file to write (conventionally ``*.nc``).

    Returns:
        The path written, a :class:`pathlib.Path`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from bayesdl.inference.mcmc import Posterior
        >>> draws = torch.arange(10.0).reshape(2, 5)
        >>> post = Posterior(samples={"mu": draws}, sample_stats={"diverging": torch.zeros(2, 5, dtype=torch.bool)},
        ...                  unconstrained=draws.unsqueeze(-1), latent_names=["mu"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = posterior_from_netcdf(posterior_to_netcdf(post, Path(tmp) / "post.nc"))
        >>> torch.equal(back.samples["mu"], draws), back.sample_stats["diverging"].dtype, back.latent_names
        (True, torch.bool, ['mu'])
    """
    import json

    import xarray as xr

    from ..io.atomic import atomic_write_with

    idata = posterior.to_arviz()
    sampler: dict[str, Any] = {
        "unconstrained": (
            ("chain", "draw", "unconstrained_dim"),
            posterior.unconstrained.detach().cpu().numpy(),
        )
    }
    if posterior.step_size is not None:
        sampler["step_size"] = (("chain",), posterior.step_size.detach().cpu().numpy())
    if posterior.inv_mass is not None:
        sampler["inv_mass"] = (("chain", "unconstrained_dim"), posterior.inv_mass.detach().cpu().numpy())
    attrs = {
        "latent_names": json.dumps(list(posterior.latent_names)),
        "warmup_seconds": float(posterior.warmup_seconds),
        "sampling_seconds": float(posterior.sampling_seconds),
        "bayesdl_format": "bayesdl-posterior/1",
    }
    idata.add_groups({"bayesdl_sampler": xr.Dataset(sampler, attrs=attrs)})
    return atomic_write_with(path, lambda tmp: idata.to_netcdf(str(tmp)))


def posterior_from_netcdf(path: str | Any) -> Any:
    """Load a :class:`~bayesdl.inference.mcmc.Posterior` written by :func:`posterior_to_netcdf`.

    Arguments:
        path: the netCDF file.

    Returns:
        A ``Posterior`` whose tensors equal the saved ones; its ``model`` is None (pass a model to
        :meth:`Posterior.predictive`).

    Raises:
        CheckpointError: for a missing file, a file that is not netCDF, or one without the bayesdl groups.
    """
    import json
    from pathlib import Path

    from ..errors import CheckpointError
    from ..inference.mcmc.posterior import Posterior

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no posterior file at {path}")
    try:
        idata = az.from_netcdf(str(path))
    except Exception as err:  # h5netcdf / xarray raise many types for a foreign or corrupt file
        raise CheckpointError(f"{path} is not a netCDF posterior file: {err}") from err
    groups = set(idata.groups())
    if not {"posterior", "bayesdl_sampler"} <= groups:
        raise CheckpointError(
            f"{path} lacks the posterior and bayesdl_sampler groups of a bayesdl posterior file"
        )

    def tensors(group: str) -> dict[str, torch.Tensor]:
        if group not in groups:
            return {}
        dataset = idata[group].load()
        return {
            str(name): torch.from_numpy(np.array(value.values)) for name, value in dataset.data_vars.items()
        }

    stat_names = {v: k for k, v in SAMPLE_STAT_NAMES.items()}
    sampler = idata["bayesdl_sampler"].load()
    extra = tensors("bayesdl_sampler")
    try:
        latent_names = json.loads(sampler.attrs.get("latent_names", "[]"))
        warmup, sampling = (
            float(sampler.attrs.get("warmup_seconds", 0.0)),
            float(sampler.attrs.get("sampling_seconds", 0.0)),
        )
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: malformed bayesdl_sampler attributes: {err}") from err
    if "unconstrained" not in extra or not (
        isinstance(latent_names, list) and all(isinstance(n, str) for n in latent_names)
    ):
        raise CheckpointError(f"{path}: malformed bayesdl_sampler group")
    return Posterior(
        samples=tensors("posterior"),
        sample_stats={stat_names.get(k, k): v for k, v in tensors("sample_stats").items()},
        unconstrained=extra["unconstrained"],
        observed_data=tensors("observed_data"),
        log_likelihood=tensors("log_likelihood"),
        step_size=extra.get("step_size"),
        inv_mass=extra.get("inv_mass"),
        warmup_seconds=warmup,
        sampling_seconds=sampling,
        latent_names=latent_names,
    )
