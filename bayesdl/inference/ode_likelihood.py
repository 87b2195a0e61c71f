"""The log-likelihood of a continuous-time model through its ODE (instantaneous change of variables).

For a model whose density is a prior pi pushed through dx/dt = v(x, t) from t_prior to t_data,

    log p(x) = log pi(x(t_prior)) + int_{t_data}^{t_prior} div_x v(x(t), t) dt,

with x(t_data) = x (Chen et al. 2018, arXiv:1806.07366, Theorem 1). The state [x, int div] is integrated by
torchdiffeq in one solve. The divergence is either exact (one vector-Jacobian product per dimension: small D) or
the Hutchinson-Skilling estimate eps^T (dv/dx) eps with probes fixed along the trajectory (Grathwohl et al. 2018,
arXiv:1810.01367), which is unbiased for log p(x); K probes per example give K estimates whose spread is the
reported standard error. This module takes any :class:`~bayesdl.contracts.ProbabilityFlow` (a score SDE's
probability-flow ODE, flow matching, a CNF) or a plain velocity callable; it never imports a model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, Literal

import torch

from ..contracts import ProbabilityFlow
from ..errors import InputError
from ..ops.ode import check_ode_settings, solve_ode
from ..results.ode import ODELogLikelihood
from ..validation import check_choice, check_positive_int, check_tensor

Divergence = Literal["exact", "hutchinson"]
Probe = Literal["rademacher", "gaussian"]

__all__ = ["ODELogLikelihood", "exact_divergence", "hutchinson_divergence", "ode_log_likelihood"]


def exact_divergence(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """div_x v = sum_i d v_i / d x_i per example [B], by one vector-Jacobian product per dimension.

    Arguments:
        v: v(x), computed from ``x`` with the graph kept, [B, ...].
        x: the input, with ``requires_grad``, [B, ...].

    Example:
        >>> x = torch.randn(4, 3, requires_grad=True)
        >>> exact_divergence(2.0 * x, x)
        tensor([6., 6., 6., 6.])
    """
    flat = v.reshape(len(v), -1)
    div = torch.zeros(len(v), dtype=v.dtype, device=v.device)
    for i in range(flat.shape[1]):
        (g,) = torch.autograd.grad(flat[:, i].sum(), x, retain_graph=True)
        div = div + g.reshape(len(v), -1)[:, i]
    return div


def hutchinson_divergence(v: torch.Tensor, x: torch.Tensor, probes: torch.Tensor) -> torch.Tensor:
    """The Hutchinson-Skilling estimates eps_k^T (dv/dx) eps_k, [K, B], for probes eps_k [K, B, ...].

    For probes with E[eps eps^T] = I (Rademacher or standard normal) each estimate is unbiased for div_x v
    (Hutchinson 1989; Skilling 1989).

    Arguments:
        v: v(x), computed from ``x`` with the graph kept, [B, ...].
        x: the input, with ``requires_grad``, [B, ...].
        probes: K probe vectors per example, [K, *x.shape].

    Example:
        >>> x = torch.randn(2, 3, requires_grad=True)
        >>> hutchinson_divergence(2.0 * x, x, torch.ones(1, 2, 3))
        tensor([[6., 6.]])
    """
    if len(probes) > 1:
        try:  # all K vector-Jacobian products in one vmapped backward pass
            (g,) = torch.autograd.grad(v, x, grad_outputs=probes, retain_graph=True, is_grads_batched=True)
            return (g * probes).reshape(len(probes), len(x), -1).sum(2)
        except RuntimeError:  # an op without a batching rule: one product per probe
            pass
    out = []
    for k in range(len(probes)):
        (g,) = torch.autograd.grad(v, x, grad_outputs=probes[k], retain_graph=True)
        out.append((g * probes[k]).reshape(len(x), -1).sum(1))
    return torch.stack(out)


def _draw_probes(
    shape: tuple[int, ...], kind: str, like: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    if kind == "gaussian":
        return torch.randn(shape, generator=generator, device=like.device, dtype=like.dtype)
    bits = torch.randint(0, 2, shape, generator=generator, device=like.device)
    return (2 * bits - 1).to(like.dtype)


def _generator(
    seed: int | None, generator: torch.Generator | None, device: torch.device
) -> torch.Generator | None:
    if generator is not None:
        return generator
    if seed is None:
        return None
    return torch.Generator(device=device).manual_seed(int(seed))


def ode_log_likelihood(
    flow: ProbabilityFlow | Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    divergence: Divergence = "exact",
    num_probes: int = 1,
    probe: Probe = "rademacher",
    method: str = "dopri5",
    rtol: float = 1e-5,
    atol: float = 1e-5,
    options: dict[str, Any] | None = None,
    prior_log_prob: Callable[[torch.Tensor], torch.Tensor] | None = None,
    time_span: tuple[float, float] | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> ODELogLikelihood:
    """log p(x) per example of a continuous-time model by the instantaneous change of variables.

    The ODE dx/dt = v(x, t) is solved from t_data (where the state is x) to t_prior (where it is z) together
    with the running integral of the divergence, and log p(x) = log pi(z) + int_{t_data}^{t_prior} div v dt.

    Arguments:
        flow: a :class:`~bayesdl.contracts.ProbabilityFlow` (``velocity``, ``prior_log_prob``, ``time_span``;
            e.g. :class:`~bayesdl.models.continuous.ScoreSDE` or :class:`~bayesdl.models.continuous.FlowMatching`),
            or a velocity callable ``v(x, t)`` (t [B]) together with ``prior_log_prob`` and ``time_span``.
        x: data [B, ...] (floating point).
        divergence: "exact" (D vector-Jacobian products per evaluation; for small D) or "hutchinson".
        num_probes: K, the probes per example for "hutchinson" (K >= 2 for a standard error).
        probe: the probe law for "hutchinson": "rademacher" (lower variance) or "gaussian".
        method, rtol, atol, options: the torchdiffeq solver, its tolerances and extra options.
        prior_log_prob, time_span: for a plain callable: log pi(z) [B], and (t_data, t_prior).
        seed, generator: the random source of the probes.

    Returns:
        an :class:`~bayesdl.results.ODELogLikelihood`: ``log_prob`` [B] (nats), its probe ``stderr`` [B], the
        number of function evaluations ``nfe``, the solver settings and a ``label``.

    Raises:
        InputError: for bad data or settings (naming the argument).
        ODESolverError: if the solution becomes NaN or infinite (naming the time and the tolerances).

    Example:
        >>> ll = ode_log_likelihood(lambda x, t: torch.zeros_like(x), torch.zeros(2, 3),
        ...                         prior_log_prob=lambda z: -0.5 * z.pow(2).sum(1) - 1.5 * math.log(2 * math.pi),
        ...                         time_span=(0.0, 1.0))
        >>> [round(v, 4) for v in ll.log_prob.tolist()], ll.divergence
        ([-2.7568, -2.7568], 'exact')

    References:
        Chen, Rubanova, Bettencourt & Duvenaud (2018), Neural Ordinary Differential Equations, arXiv:1806.07366.
        Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud (2018), FFJORD, arXiv:1810.01367.
        Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole (2021), Score-Based Generative Modeling through
        Stochastic Differential Equations, arXiv:2011.13456 (the probability-flow likelihood).
    """
    if isinstance(flow, ProbabilityFlow):
        velocity = flow.velocity
        prior_log_prob = flow.prior_log_prob if prior_log_prob is None else prior_log_prob
        time_span = flow.time_span if time_span is None else time_span
    elif callable(flow):
        velocity = flow
        if prior_log_prob is None or time_span is None:
            raise InputError(
                "a plain velocity callable needs prior_log_prob= and time_span=(t_data, t_prior)"
            )
    else:
        raise InputError(
            f"flow must be a ProbabilityFlow or a velocity callable v(x, t), got {type(flow).__name__}"
        )
    check = getattr(flow, "check_data", None)
    if callable(check):
        check(x)
    check_tensor(x, "x", floating=True)
    if (
        not isinstance(time_span, (tuple, list))
        or len(time_span) != 2
        or not all(isinstance(t, (int, float)) and math.isfinite(t) for t in time_span)
        or time_span[0] == time_span[1]
    ):
        raise InputError(f"time_span must be two different finite times (t_data, t_prior), got {time_span!r}")
    divergence = check_choice(divergence, "divergence", ("exact", "hutchinson"))
    probe = check_choice(probe, "probe", ("rademacher", "gaussian"))
    num_probes = check_positive_int(num_probes, "num_probes")
    method, rtol, atol = check_ode_settings(method, rtol, atol)
    t_data, t_prior = float(time_span[0]), float(time_span[1])
    batch = len(x)
    if divergence == "hutchinson":
        probes = _draw_probes((num_probes, *x.shape), probe, x, _generator(seed, generator, x.device))
    else:
        probes, num_probes = None, 0

    def func(t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            xt = state[0].detach().requires_grad_(True)
            v = velocity(xt, t.reshape(1).expand(batch))
            if v.shape != xt.shape:
                raise InputError(
                    f"the velocity must have the shape of x {tuple(xt.shape)}, got {tuple(v.shape)}"
                )
            if not v.requires_grad:  # a field that does not depend on x has zero divergence
                div = torch.zeros(max(num_probes, 1), batch, dtype=x.dtype, device=x.device)
            elif probes is None:
                div = exact_divergence(v, xt).unsqueeze(0)
            else:
                div = hutchinson_divergence(v, xt, probes)
        return v.detach(), div.detach()

    delta0 = torch.zeros(max(num_probes, 1), batch, dtype=x.dtype, device=x.device)
    solution = solve_ode(
        func, (x.detach(), delta0), t_data, t_prior, method=method, rtol=rtol, atol=atol, options=options
    )
    z, delta = solution.state
    with torch.no_grad():
        estimates = prior_log_prob(z).unsqueeze(0) + delta  # [K, B]
    log_prob = estimates.mean(0)
    if num_probes == 0:
        stderr = torch.zeros_like(log_prob)
    elif num_probes == 1:
        warnings.warn(
            "one Hutchinson probe per example gives no standard error (NaN); use num_probes >= 2",
            stacklevel=2,
        )
        stderr = torch.full_like(log_prob, float("nan"))
    else:
        stderr = estimates.std(0) / math.sqrt(num_probes)
    return ODELogLikelihood(
        log_prob=log_prob,
        stderr=stderr,
        nfe=solution.nfe,
        divergence=divergence,
        num_probes=num_probes,
        method=method,
        rtol=rtol,
        atol=atol,
    )
