"""The forward SDEs of score-based diffusion: dx = f(t) x dt + g(t) dw on t in [0, T], T = 1.

Each has a Gaussian perturbation kernel p_0t(x_t | x_0) = N(alpha_t x_0, sigma_t^2 I) in closed form, with
d alpha / dt = f alpha and d sigma^2 / dt = 2 f sigma^2 + g^2 (so the kernel is exactly the SDE's), and a prior
N(0, prior_std^2 I) close to p_T. They hold no parameters; they are modules so that a model can be saved with
its SDE.
"""

from __future__ import annotations

import math

import torch

from ...errors import InputError
from ...io import serializable
from ...validation import check_positive_float


class SDE(torch.nn.Module):
    """The interface of a linear forward SDE dx = f(t) x dt + g(t) dw (subclasses give f, g, alpha, sigma).

    Times are tensors (any shape); every method returns a tensor of that shape and dtype.
    """

    T: float = 1.0
    prior_std: float = 1.0

    def drift_coef(self, t: torch.Tensor) -> torch.Tensor:
        """f(t): the drift is f(t) x."""
        raise NotImplementedError

    def diffusion(self, t: torch.Tensor) -> torch.Tensor:
        """g(t)."""
        raise NotImplementedError

    def marginal(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha_t, sigma_t) of p_0t(x_t | x_0) = N(alpha_t x_0, sigma_t^2 I)."""
        raise NotImplementedError

    def likelihood_weight(self, t: torch.Tensor) -> torch.Tensor:
        """g(t)^2 / sigma_t^2: the weight of the noise-prediction error ||eps_hat - eps||^2 in the likelihood-weighted
        score-matching loss (Song, Durkan, Murray & Ermon 2021, arXiv:2101.09258)."""
        return self.diffusion(t).pow(2) / self.marginal(t)[1].pow(2)


class _BetaSDE(SDE):
    """Shared by VP and sub-VP: beta(t) = beta_min + t (beta_max - beta_min), B(t) = int_0^t beta."""

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0) -> None:
        super().__init__()
        self.beta_min = check_positive_float(beta_min, "beta_min")
        self.beta_max = check_positive_float(beta_max, "beta_max")
        if self.beta_max < self.beta_min:
            raise InputError(f"beta_max must be >= beta_min, got beta_min={beta_min}, beta_max={beta_max}")

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def integrated_beta(self, t: torch.Tensor) -> torch.Tensor:
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t

    def drift_coef(self, t: torch.Tensor) -> torch.Tensor:
        return -0.5 * self.beta(t)

    def extra_repr(self) -> str:
        return f"beta_min={self.beta_min}, beta_max={self.beta_max}"


@serializable
class VPSDE(_BetaSDE):
    """The variance-preserving SDE dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw, the continuous limit of DDPM.

    alpha_t = exp(-B(t) / 2), sigma_t^2 = 1 - exp(-B(t)), with B(t) = beta_min t + (beta_max - beta_min) t^2 / 2;
    the prior is N(0, I). A DDPM with T steps of the linear schedule beta_i is this SDE with
    beta_min = T beta_1 and beta_max = T beta_T (0.1 and 20 for Ho et al.'s schedule).

    Arguments:
        beta_min, beta_max: beta(0) and beta(1).

    Example:
        >>> sde = VPSDE()
        >>> alpha, sigma = sde.marginal(torch.tensor([0.5]))
        >>> round(float(alpha ** 2 + sigma ** 2), 6)
        1.0

    References:
        Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole (2021), Score-Based Generative Modeling through
        Stochastic Differential Equations, arXiv:2011.13456, eqs. 11 and 29.
    """

    def diffusion(self, t: torch.Tensor) -> torch.Tensor:
        return self.beta(t).sqrt()

    def marginal(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.integrated_beta(t)
        return torch.exp(-0.5 * b), (-torch.expm1(-b)).sqrt()


@serializable
class SubVPSDE(_BetaSDE):
    """The sub-VP SDE dx = -1/2 beta(t) x dt + sqrt(beta(t) (1 - exp(-2 B(t)))) dw.

    alpha_t = exp(-B(t) / 2) as for the VP SDE, but sigma_t = 1 - exp(-B(t)), below the VP sigma at every t
    (Song et al. 2021 report better likelihoods with it); the prior is N(0, I).

    Arguments:
        beta_min, beta_max: beta(0) and beta(1).

    Example:
        >>> t = torch.tensor([0.3])
        >>> bool(SubVPSDE().marginal(t)[1] < VPSDE().marginal(t)[1])
        True

    References:
        Song et al. (2021), arXiv:2011.13456, eq. 17.
    """

    def diffusion(self, t: torch.Tensor) -> torch.Tensor:
        return (self.beta(t) * -torch.expm1(-2.0 * self.integrated_beta(t))).sqrt()

    def marginal(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.integrated_beta(t)
        return torch.exp(-0.5 * b), -torch.expm1(-b)


@serializable
class VESDE(SDE):
    """The variance-exploding SDE dx = sqrt(d[s(t)^2]/dt) dw with s(t) = sigma_min (sigma_max / sigma_min)^t.

    alpha_t = 1 and sigma_t^2 = s(t)^2 - sigma_min^2 (the exact kernel from x_0 at t = 0); the prior is
    N(0, sigma_1^2 I), sigma_1^2 = sigma_max^2 - sigma_min^2.

    Arguments:
        sigma_min, sigma_max: s(0) and s(1); sigma_max should be about the largest distance between data points.

    Example:
        >>> sde = VESDE(0.01, 10.0)
        >>> round(float(sde.marginal(torch.tensor([1.0]))[1]), 4), round(sde.prior_std, 4)
        (10.0, 10.0)

    References:
        Song et al. (2021), arXiv:2011.13456, eqs. 9 and 30.
    """

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 10.0) -> None:
        super().__init__()
        self.sigma_min = check_positive_float(sigma_min, "sigma_min")
        self.sigma_max = check_positive_float(sigma_max, "sigma_max")
        if self.sigma_max <= self.sigma_min:
            raise InputError(
                f"sigma_max must exceed sigma_min, got sigma_min={sigma_min}, sigma_max={sigma_max}"
            )
        self.prior_std = math.sqrt(self.sigma_max**2 - self.sigma_min**2)

    def drift_coef(self, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(t)

    def _log_ratio(self) -> float:
        return math.log(self.sigma_max / self.sigma_min)

    def diffusion(self, t: torch.Tensor) -> torch.Tensor:
        return self.sigma_min * torch.exp(t * self._log_ratio()) * math.sqrt(2.0 * self._log_ratio())

    def marginal(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        var = self.sigma_min**2 * torch.expm1(2.0 * t * self._log_ratio())
        return torch.ones_like(t), var.sqrt()

    def extra_repr(self) -> str:
        return f"sigma_min={self.sigma_min}, sigma_max={self.sigma_max}"
