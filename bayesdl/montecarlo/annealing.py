"""Annealed importance sampling (AIS) of a partition function, for any model that defines a path.

AIS (Neal 2001, Statistics and Computing 11) estimates Z_K = sum_x f_K(x) of an unnormalised target
f_K from a tractable base f_0 with known Z_0, through intermediate unnormalised distributions
f_0, f_1, ..., f_K and Markov transitions T_k that leave f_k / Z_k invariant. Each of M independent
runs draws x_1 ~ f_0 / Z_0 and, for k = 1..K, adds log f_k(x_k) - log f_{k-1}(x_k) to its log
weight and moves x_{k+1} ~ T_k(x_k, .). The mean of the weights, times Z_0, is an unbiased
estimate of Z_K; its logarithm is (by Jensen) biased low in expectation.

The uncertainty reported is that of the mean weight: with w_m the weights and Z_hat = Z_0 mean(w),
sigma_hat = Z_0 sd(w) / sqrt(M). ``log_z_std_err`` = sigma_hat / Z_hat is its first-order (delta
method) standard error in log space, and ``log_z_lower``/``log_z_upper`` = log(Z_hat -/+ 3 sigma_hat)
are the three-sigma bounds that Salakhutdinov & Murray (2008) report.

The model supplies the path by subclassing :class:`AnnealingPath`; the estimator itself never sees
the model. The RBM path of Salakhutdinov & Murray (2008, ICML) lives in
:mod:`bayesdl.models.rbm`.
"""

from __future__ import annotations

import torch

from ..errors import InputError
from ..progress import Progress, progress_counter
from ..results.estimates import LogPartitionEstimate, summarize_log_weights
from ..validation import check_choice, check_positive_int

__all__ = [
    "AnnealingPath",
    "LogPartitionEstimate",
    "ais_betas",
    "annealed_importance_sampling",
    "summarize_log_weights",
]


class AnnealingPath:
    """A sequence of unnormalised distributions f_beta, beta in [0, 1], with f_0 tractable.

    Subclasses implement :meth:`log_z_base`, :meth:`sample_base`, :meth:`log_unnormalized` and
    :meth:`transition`. :meth:`log_weight_increment` defaults to the difference of two
    :meth:`log_unnormalized` calls; override it when the difference can be computed more cheaply
    or more accurately (e.g. by sharing a matrix product with the next transition).

    The class takes no constructor arguments; a subclass stores whatever its densities need.

    Example:
        >>> import math
        >>> class Tilted(AnnealingPath):  # f_beta(x) = exp(beta x) on x in {0, 1}; Z_0 = 2
        ...     def log_z_base(self): return math.log(2.0)
        ...     def sample_base(self, n, g): return (torch.rand(n, generator=g) < 0.5).float()
        ...     def log_unnormalized(self, x, beta): return beta * x
        ...     def transition(self, x, beta, g):
        ...         return (torch.rand(x.shape, generator=g) < torch.sigmoid(torch.tensor(beta))).float()
        >>> Tilted().log_weight_increment(torch.tensor([0.0, 1.0]), 0.25, 0.75)
        tensor([0.0000, 0.5000], dtype=torch.float64)

    References:
        Neal (2001), Annealed importance sampling, Statistics and Computing 11:125-139,
        arXiv:physics/9803008.
    """

    def log_z_base(self) -> float:
        """log Z_0 of the base distribution f_0."""
        raise NotImplementedError

    def sample_base(self, num_chains: int, generator: torch.Generator | None) -> torch.Tensor:
        """Exact draws from f_0 / Z_0, shape [num_chains, ...]."""
        raise NotImplementedError

    def log_unnormalized(self, x: torch.Tensor, beta: float) -> torch.Tensor:
        """log f_beta(x) per chain, shape [num_chains]."""
        raise NotImplementedError

    def transition(self, x: torch.Tensor, beta: float, generator: torch.Generator | None) -> torch.Tensor:
        """One Markov step that leaves f_beta / Z_beta invariant."""
        raise NotImplementedError

    def log_weight_increment(self, x: torch.Tensor, beta_from: float, beta_to: float) -> torch.Tensor:
        """log f_{beta_to}(x) - log f_{beta_from}(x), per chain (float64 recommended)."""
        return self.log_unnormalized(x, beta_to).double() - self.log_unnormalized(x, beta_from).double()


BETA_SCHEDULES = ("salakhutdinov-murray", "linear")


def ais_betas(
    num_betas: int, schedule: str = "salakhutdinov-murray", device: torch.device | str | None = None
) -> torch.Tensor:
    """Inverse temperatures 0 = beta_0 < ... < beta_{K} = 1 (float64, ``num_betas`` values).

    "salakhutdinov-murray" spaces them as in Salakhutdinov & Murray (2008): evenly in [0, 0.5],
    [0.5, 0.9] and [0.9, 1] with 500, 4000 and 10000 of 14500 points, i.e. densest near beta = 1
    where the distributions change fastest. "linear" spaces them evenly. Fewer than 10 values are
    always spaced evenly.

    Arguments:
        num_betas: K + 1, the number of inverse temperatures including both ends (at least 2).
        schedule: "salakhutdinov-murray" (dense near 1) or "linear".
        device: where to put the result (None: the default device).

    Returns:
        A strictly increasing float64 tensor of shape [num_betas], from exactly 0 to exactly 1.

    Example:
        >>> ais_betas(5, "linear")
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000], dtype=torch.float64)
        >>> b = ais_betas(1450)
        >>> float(b[0]), float(b[-1]), len(b)
        (0.0, 1.0, 1450)

    References:
        Salakhutdinov & Murray (2008), On the quantitative analysis of deep belief networks, ICML.
    """
    check_positive_int(num_betas, "num_betas", minimum=2)
    check_choice(schedule, "schedule", BETA_SCHEDULES)
    if schedule == "linear" or num_betas < 10:
        return torch.linspace(0.0, 1.0, num_betas, dtype=torch.float64, device=device)
    n1 = max(2, round(num_betas * 500 / 14500))
    n2 = max(2, round(num_betas * 4000 / 14500))
    n3 = num_betas - n1 - n2 + 2  # the two joints are shared
    parts = [
        torch.linspace(0.0, 0.5, n1, dtype=torch.float64, device=device),
        torch.linspace(0.5, 0.9, n2, dtype=torch.float64, device=device)[1:],
        torch.linspace(0.9, 1.0, n3, dtype=torch.float64, device=device)[1:],
    ]
    return torch.cat(parts)


def annealed_importance_sampling(
    path: AnnealingPath,
    num_chains: int = 100,
    num_betas: int = 10000,
    *,
    betas: torch.Tensor | None = None,
    schedule: str = "salakhutdinov-murray",
    seed: int | None = None,
    generator: torch.Generator | None = None,
    progress: Progress = False,
) -> LogPartitionEstimate:
    """Estimate log Z of f_1 along ``path`` with ``num_chains`` independent AIS runs.

    Arguments:
        path: the :class:`AnnealingPath` (base distribution, intermediate densities, transitions).
        num_chains: M, the number of independent runs (importance weights).
        num_betas: K + 1, the number of inverse temperatures including 0 and 1.
        betas: explicit increasing inverse temperatures from 0 to 1 (overrides ``num_betas``).
        schedule: the spacing of the betas, see :func:`ais_betas`.
        seed: seeds a fresh generator when ``generator`` is None.
        generator: the random source (None and no seed: torch's global one).
        progress: count the K annealing steps: False (default, silent), True or a label for a bar, or a
            callable ``(done, total)`` (see :mod:`bayesdl.progress`).

    Returns:
        a :class:`LogPartitionEstimate` with method "ais".

    Example:
        >>> import math
        >>> class Coin(AnnealingPath):  # f_beta(x) = exp(2 beta x) on x in {0, 1}; Z_1 = 1 + e^2
        ...     def log_z_base(self): return math.log(2.0)
        ...     def sample_base(self, n, g): return (torch.rand(n, generator=g) < 0.5).float()
        ...     def log_unnormalized(self, x, beta): return 2.0 * beta * x
        ...     def transition(self, x, beta, g):
        ...         p1 = torch.sigmoid(torch.tensor(2.0 * beta))
        ...         return (torch.rand(x.shape, generator=g) < p1).float()
        >>> est = annealed_importance_sampling(Coin(), num_chains=2000, num_betas=50, seed=0)
        >>> abs(est.log_z - math.log(1 + math.e ** 2)) < 0.05
        True

    References:
        Neal (2001), Annealed importance sampling, Statistics and Computing 11:125-139
        (arXiv:physics/9803008). Salakhutdinov & Murray (2008), On the quantitative analysis of
        deep belief networks, ICML.
    """
    check_positive_int(num_chains, "num_chains", minimum=2)
    if betas is None:
        betas = ais_betas(num_betas, schedule)
    else:
        betas = betas.detach().double().cpu()
        if betas.dim() != 1 or len(betas) < 2 or float(betas[0]) != 0.0 or float(betas[-1]) != 1.0:
            raise InputError("betas must be a 1-D increasing sequence from 0 to 1")
        if not bool((betas[1:] > betas[:-1]).all()):
            raise InputError("betas must be strictly increasing")
    if generator is None and seed is not None:
        generator = torch.Generator()
        generator.manual_seed(seed)
    beta_list = [float(b) for b in betas.cpu()]
    last = len(beta_list) - 1
    with (
        torch.no_grad(),
        progress_counter(
            progress, last, f"AIS ({num_chains} chains x {last + 1} temperatures)", "temperature"
        ) as counter,
    ):
        x = path.sample_base(num_chains, generator)
        log_w = torch.zeros(num_chains, dtype=torch.float64, device=x.device)
        for k in range(1, last + 1):
            log_w += path.log_weight_increment(x, beta_list[k - 1], beta_list[k]).double()
            if k < last:
                x = path.transition(x, beta_list[k], generator)
            counter.update()
    return summarize_log_weights(log_w, path.log_z_base(), num_betas=len(beta_list))
