"""The log-likelihood of a continuous-time model through its ODE: value, standard error, solver cost and a label.

:func:`bayesdl.inference.ode_log_likelihood` fills it; it imports only torch and the one bits/dim helper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .bits import bits_per_dim

EXACT_LABEL = (
    "log-density of the continuous-time model, exact divergence (error: the ODE solver tolerance only)"
)
HUTCHINSON_LABEL = (
    "log-density of the continuous-time model, Hutchinson-Skilling estimate of the divergence "
    "(unbiased; stderr over probes)"
)


@dataclass
class ODELogLikelihood:
    """log p(x) of a continuous-time model per example (nats), from the instantaneous change of variables.

    This is the normalised log-density of the *continuous* model: the prior pushed through the ODE
    dx/dt = v(x, t) from the prior time to the data time (Chen et al. 2018, arXiv:1806.07366; Grathwohl et al.
    2018, arXiv:1810.01367). For discrete data that was uniformly dequantised before the call, its expectation
    over the dequantisation noise is a lower bound on log P of the discrete data (Theis et al. 2016,
    arXiv:1511.01844): :meth:`bits_per_dim` with ``num_levels`` then gives an upper bound on the discrete data's
    bits/dim.

    Attributes:
        log_prob: log p(x) per example, [B] (nats).
        stderr: the standard error of each value over the divergence probes, [B]; zeros for the exact divergence,
            NaN for a single probe.
        nfe: the number of evaluations of the velocity field by the solver.
        divergence: "exact" or "hutchinson".
        num_probes: the probe vectors per example (0 for the exact divergence).
        method, rtol, atol: the solver and its tolerances.
        label: what the number is (exact density, or an estimate with its probe error).

    Example:
        >>> r = ODELogLikelihood(torch.tensor([-2.0, -4.0]), torch.tensor([0.3, 0.4]), nfe=50,
        ...                      divergence="hutchinson", num_probes=8, method="dopri5", rtol=1e-5, atol=1e-5)
        >>> r.mean(), round(r.mean_stderr(), 4), r.nll().tolist()
        (-3.0, 0.25, [2.0, 4.0])
    """

    log_prob: torch.Tensor
    stderr: torch.Tensor
    nfe: int
    divergence: str
    num_probes: int
    method: str
    rtol: float
    atol: float

    @property
    def label(self) -> str:
        return EXACT_LABEL if self.divergence == "exact" else HUTCHINSON_LABEL

    def nll(self) -> torch.Tensor:
        """-log p(x) per example, [B] (nats)."""
        return -self.log_prob

    def mean(self) -> float:
        """The average log p(x) per example (nats)."""
        return float(self.log_prob.mean())

    def mean_stderr(self) -> float:
        """The probe standard error of :meth:`mean`: sqrt(sum SE_i^2) / N (probes are independent per example)."""
        return float(self.stderr.pow(2).sum().sqrt() / len(self.stderr))

    def bits_per_dim(
        self, num_dims: int, *, num_levels: int | None = None, log_det_preprocess: float | torch.Tensor = 0.0
    ) -> torch.Tensor:
        """Bits per dimension per example [B], through the one helper :func:`bayesdl.results.bits_per_dim`.

        For levels k in {0..K-1} dequantised to u = (k + v)/K and mapped to x = 2u - 1 before the call, pass
        ``num_levels=K`` and ``log_det_preprocess=D log 2`` (|dx/du| = 2 per dimension); the result is then an
        upper bound on -log2 P(k) / D (in expectation over the dequantisation noise v).
        """
        return bits_per_dim(
            self.log_prob, num_dims, num_levels=num_levels, log_det_preprocess=log_det_preprocess
        )

    def __str__(self) -> str:
        se = self.mean_stderr()
        err = "" if self.divergence == "exact" or math.isnan(se) else f" +- {se:.4f}"
        return (
            f"log p = {self.mean():.4f}{err} nats/example ({self.label}; {self.method}, rtol={self.rtol:g}, "
            f"atol={self.atol:g}, nfe={self.nfe})"
        )
