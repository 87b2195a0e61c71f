"""A subset of posteriordb translated into Pyro: each posterior's model, data and reference summary.

posteriordb (Magnusson, Torgander, Buerkner, Zhang, Carpenter & Vehtari 2024, arXiv:2407.04967) is a
set of Stan models with data and reference posterior draws (10 chains x 1000 draws of Stan's NUTS).
The vendored files in ``data/`` hold each posterior's data, its Stan program, and the mean, sd and
their Monte Carlo standard errors (plus ESS and R-hat) of every reference parameter; the draws
themselves are not vendored. posteriordb is under the BSD-3 licence, reproduced in ``LICENCE.md``
next to this file. ``scripts/vendor_posteriordb.py`` rebuilds the files.

Parameter names follow posteriordb: ``beta[2]`` is ``samples["beta"][..., 1]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from ...errors import InputError
from ..eight_schools import eight_schools_noncentered
from .arma import arma11, linear_recurrence
from .gp_regression import gp_regression
from .regression import flat_positive, flat_real, kilpisjarvi, linear_regression

DATA_DIR = Path(__file__).parent / "data"


@dataclass
class PosteriordbPosterior:
    """One posteriordb posterior: a Pyro model, its arguments, and the reference summary.

    Attributes:
        name: the posteriordb name, e.g. ``"eight_schools-eight_schools_noncentered"``.
        model: the Pyro model; call it as ``model(*args)``.
        args: the model's arguments (tensors built from the posterior's data).
        reference: parameter name (``"beta[1]"``) -> dict of ``mean``, ``sd``, ``mcse_mean``,
            ``mcse_sd``, ``ess_bulk``, ``ess_tail``, ``r_hat`` of the reference draws.
        stan_model: the Stan program that was translated.
        description: one line on what the posterior is.

    Example:
        >>> post = load_posteriordb("sblri-blr")
        >>> post.name, sorted(post.reference)[:2], tuple(post.args[0].shape)
        ('sblri-blr', ['beta[1]', 'beta[2]'], (100, 5))
    """

    name: str
    model: Callable
    args: tuple
    reference: dict[str, dict[str, float]]
    stan_model: str = ""
    description: str = ""


def _t(values, dtype) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


def _design(columns: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack([torch.ones_like(columns[0])] + columns, dim=-1)


def _build(name: str, d: dict, dtype: torch.dtype) -> tuple[Callable, tuple, str]:
    if name == "eight_schools-eight_schools_noncentered":
        return (
            eight_schools_noncentered,
            (_t(d["y"], dtype), _t(d["sigma"], dtype)),
            "hierarchical, non-centred, 10 dims",
        )
    if name == "kidiq-kidscore_momhsiq":
        x = _design([_t(d["mom_hs"], dtype), _t(d["mom_iq"], dtype)])
        return (
            partial(linear_regression, sigma_prior="half_cauchy", sigma_scale=2.5),
            (x, _t(d["kid_score"], dtype)),
            "linear regression of kid's score on mother's high school and IQ",
        )
    if name == "earnings-logearn_height_male":
        x = _design([_t(d["height"], dtype), _t(d["male"], dtype)])
        return linear_regression, (x, _t(d["earn"], dtype).log()), "linear regression of log earnings"
    if name == "nes1980-nes":
        age = _t(d["age_discrete"], dtype)
        cols = [d["real_ideo"], d["race_adj"]]
        x = _design(
            [
                _t(cols[0], dtype),
                _t(cols[1], dtype),
                (age == 2).to(dtype),
                (age == 3).to(dtype),
                (age == 4).to(dtype),
                _t(d["educ1"], dtype),
                _t(d["gender"], dtype),
                _t(d["income"], dtype),
            ]
        )
        return linear_regression, (x, _t(d["partyid7"], dtype)), "linear regression, 9 coefficients"
    if name == "kilpisjarvi_mod-kilpisjarvi":
        args = (
            _t(d["x"], dtype),
            _t(d["y"], dtype),
            float(d["pmualpha"]),
            float(d["psalpha"]),
            float(d["pmubeta"]),
            float(d["psbeta"]),
        )
        return kilpisjarvi, args, "linear trend with strongly correlated intercept and slope"
    if name == "mesquite-logmesquite_logvash":
        d1, d2, ch = _t(d["diam1"], dtype), _t(d["diam2"], dtype), _t(d["canopy_height"], dtype)
        x = _design(
            [
                (d1 * d2 * ch).log(),
                (d1 * d2).log(),
                (d1 / d2).log(),
                _t(d["total_height"], dtype).log(),
                _t(d["group"], dtype),
            ]
        )
        return linear_regression, (x, _t(d["weight"], dtype).log()), "log-log regression"
    if name == "sblri-blr":
        return (
            partial(linear_regression, beta_scale=10.0, sigma_prior="half_normal", sigma_scale=10.0),
            (_t(d["X"], dtype), _t(d["y"], dtype)),
            "Bayesian linear regression, 5 coefficients",
        )
    if name == "arma-arma11":
        return arma11, (_t(d["y"], dtype),), "ARMA(1, 1) time series"
    if name == "gp_pois_regr-gp_regr":
        return (
            gp_regression,
            (_t(d["x"], dtype), _t(d["y"], dtype)),
            "GP regression hyperparameters (Cholesky in the model)",
        )
    raise InputError(f"unknown posteriordb posterior {name!r}")


POSTERIORDB_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in DATA_DIR.glob("*.json")))


def load_posteriordb(name: str, dtype: torch.dtype = torch.float64) -> PosteriordbPosterior:
    """The Pyro translation of one vendored posteriordb posterior, with its data and reference summary.

    Arguments:
        name: one of :data:`POSTERIORDB_NAMES`.
        dtype: the dtype of the data tensors (float64, as the reference was computed in double precision).

    Returns:
        A :class:`PosteriordbPosterior`.

    Example:
        >>> post = load_posteriordb("eight_schools-eight_schools_noncentered")
        >>> round(post.reference["mu"]["mean"], 1), len(post.reference)
        (4.4, 10)
    """
    if name not in POSTERIORDB_NAMES:
        raise InputError(f"name must be one of {', '.join(POSTERIORDB_NAMES)}; got {name!r}")
    record = json.loads((DATA_DIR / f"{name}.json").read_text())
    model, args, description = _build(name, record["data"], dtype)
    return PosteriordbPosterior(
        name=name,
        model=model,
        args=args,
        reference=record["reference"]["parameters"],
        stan_model=record["stan_model"],
        description=description,
    )


__all__ = [
    "POSTERIORDB_NAMES",
    "PosteriordbPosterior",
    "arma11",
    "flat_positive",
    "flat_real",
    "gp_regression",
    "kilpisjarvi",
    "linear_recurrence",
    "linear_regression",
    "load_posteriordb",
]
