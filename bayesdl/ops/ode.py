"""One checked call of torchdiffeq's ``odeint`` between two times, shared by ODE sampling and ODE likelihoods.

It counts the function evaluations, stops at the first non-finite derivative, and turns every failure of the
solver (a NaN or infinite state, a step size that underflows) into an :class:`~bayesdl.errors.ODESolverError`
that names the time reached and the method and tolerances, so that the caller knows what to tighten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torchdiffeq import odeint

from ..errors import ODESolverError
from ..validation import check_choice, check_positive_float

#: the solvers of torchdiffeq 0.2 (``method=``)
ODE_METHODS: tuple[str, ...] = (
    "dopri5",
    "dopri8",
    "bosh3",
    "fehlberg2",
    "adaptive_heun",
    "euler",
    "midpoint",
    "heun2",
    "heun3",
    "rk4",
    "explicit_adams",
    "implicit_adams",
    "fixed_adams",
    "scipy_solver",
)

#: the adaptive Runge-Kutta solvers, whose steps may overshoot the end time unless told to stop on it
ADAPTIVE_RK: tuple[str, ...] = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")

State = tuple[torch.Tensor, ...]


@dataclass
class ODESolution:
    """The state at the end time of a solve, and how many derivative evaluations it took."""

    state: State
    nfe: int


def check_ode_settings(method: object, rtol: object, atol: object) -> tuple[str, float, float]:
    """Validate the solver name and the (positive, finite) tolerances; returns them as (str, float, float)."""
    method = check_choice(method, "method", ODE_METHODS)
    return method, check_positive_float(rtol, "rtol"), check_positive_float(atol, "atol")


def solve_ode(
    func: Callable[[torch.Tensor, State], State],
    state: State,
    t0: float,
    t1: float,
    *,
    method: str = "dopri5",
    rtol: float = 1e-5,
    atol: float = 1e-5,
    options: dict[str, Any] | None = None,
) -> ODESolution:
    """Integrate d state / dt = func(t, state) from t0 to t1 (either direction) with torchdiffeq.

    Arguments:
        func: the derivative, ``func(t, state) -> tuple`` of tensors shaped like ``state``; t is a 0-dim tensor.
        state: the state at t0, a tuple of tensors on one device.
        t0, t1: the start and end times.
        method, rtol, atol: the solver (one of :data:`ODE_METHODS`) and its tolerances.
        options: extra solver options (e.g. ``{"step_size": 0.01}`` for the fixed-grid solvers).

    Returns:
        an :class:`ODESolution` with the state at t1 and the number of evaluations of ``func``.

    Raises:
        ODESolverError: if a derivative or the final state is NaN or infinite, or the solver fails; the message
            names the time and the tolerances.

    Example:
        >>> sol = solve_ode(lambda t, s: (-s[0],), (torch.ones(3, dtype=torch.float64),), 0.0, 1.0, rtol=1e-8, atol=1e-8)
        >>> round(float(sol.state[0][0]), 6), sol.nfe > 0
        (0.367879, True)

    References:
        Chen, Rubanova, Bettencourt & Duvenaud (2018), Neural Ordinary Differential Equations, arXiv:1806.07366
        (torchdiffeq).
    """
    method, rtol, atol = check_ode_settings(method, rtol, atol)
    ref = state[0]
    nfe = 0
    last = [float(t0)]

    def where(t: float) -> str:
        return f"at t = {t:.6g} (integrating from {t0:g} to {t1:g}; method {method}, rtol = {rtol:g}, atol = {atol:g})"

    def counted(t: torch.Tensor, s: State) -> State:
        nonlocal nfe
        nfe += 1
        last[0] = float(t)
        out = func(t, s)
        if not all(bool(torch.isfinite(o).all()) for o in out):
            raise ODESolverError(
                f"the ODE derivative became NaN or infinite {where(float(t))}; tighten rtol/atol, "
                "use a smaller step, or check the velocity field near this time"
            )
        return out

    times = torch.tensor([float(t0), float(t1)], dtype=ref.dtype, device=ref.device)
    options = dict(options or {})
    if method in ADAPTIVE_RK and "step_t" not in options:
        # land a step exactly on t1: torchdiffeq's adaptive steps otherwise overshoot it and interpolate back, and
        # would evaluate the field beyond t1 (below the data time, where a score can be undefined)
        options["step_t"] = times[1:]
    try:
        path = odeint(
            counted, tuple(state), times, method=method, rtol=rtol, atol=atol, options=options or None
        )
    except ODESolverError:
        raise
    except (
        AssertionError,
        RuntimeError,
    ) as err:  # torchdiffeq's "underflow in dt" and "max_num_steps exceeded"
        if isinstance(err, RuntimeError) and "max_num_steps" not in str(err):
            raise  # an error of the user's function (a shape mismatch, ...), not of the solver
        raise ODESolverError(f"the ODE solver failed {where(last[0])}: {err}") from err
    final = tuple(p[-1] for p in path)
    if not all(bool(torch.isfinite(f).all()) for f in final):
        raise ODESolverError(f"the ODE solution is NaN or infinite {where(float(t1))}; tighten rtol/atol")
    return ODESolution(final, nfe)
