"""Weight priors for Bayesian layers: a Gaussian and the scale mixture of Blundell et al. (2015).

A prior is a small module with ``log_prob(w)`` (summed over all entries) and ``kl_closed_form(mu, sigma)``,
which returns KL(q || p) for the factorised Gaussian posterior q = N(mu, sigma^2) when it has a closed form
and ``None`` otherwise; :func:`kl_divergence` then falls back to a Monte Carlo estimate
``log q(w) - log p(w)`` at a reparameterised draw ``w ~ q`` (Blundell et al. 2015, arXiv:1505.05424, eq. 2).

Scales are stored as log-scales in buffers (or parameters, when ``learnable=True``: an empirical-Bayes prior
scale fitted jointly with the posterior), so they follow ``.to(device)`` and are saved with the model.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InputError
from ..io import serializable
from ..validation import check_positive_float

_LOG_2PI = math.log(2.0 * math.pi)


def _scale_tensor(module: nn.Module, name: str, value: float, learnable: bool) -> None:
    tensor = torch.tensor(math.log(value), dtype=torch.float32)
    if learnable:
        module.register_parameter(name, nn.Parameter(tensor))
    else:
        module.register_buffer(name, tensor)


def _normal_log_prob(w: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(w | 0, exp(log_sigma)^2)."""
    return -0.5 * _LOG_2PI - log_sigma - 0.5 * (w * torch.exp(-log_sigma)) ** 2


class Prior(nn.Module):
    """Base class of weight priors: ``log_prob(w)`` summed over entries, optional closed-form KL.

    A subclass implements :meth:`log_prob`; it overrides :meth:`kl_closed_form` only when the KL from a
    factorised Gaussian has a closed form (otherwise :func:`kl_divergence` uses Monte Carlo).

    Example:
        A Laplace prior p(w) = exp(-|w|) / 2, which has no closed-form KL here:

        >>> class LaplacePrior(Prior):
        ...     def log_prob(self, w):
        ...         return (-w.abs() - math.log(2.0)).sum()
        >>> prior = LaplacePrior()
        >>> round(prior.log_prob(torch.tensor([0.0, 1.0])).item(), 4), prior.kl_closed_form(torch.zeros(2), torch.ones(2))
        (-2.3863, None)

    References:
        Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424.
    """

    def log_prob(self, w: torch.Tensor) -> torch.Tensor:
        """The log-density sum_i log p(w_i) (a scalar).

        Arguments:
            w: weights, any shape.

        Returns:
            The summed log-density in nats, a scalar tensor.
        """
        raise NotImplementedError

    def kl_closed_form(self, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor | None:
        """KL(N(mu, sigma^2) || p) summed over entries, or None when no closed form exists.

        Arguments:
            mu: posterior means, any shape.
            sigma: posterior standard deviations, the shape of ``mu``, positive.

        Returns:
            The KL in nats (a scalar tensor), or None.
        """
        return None


@serializable
class GaussianPrior(Prior):
    """The isotropic Gaussian prior p(w) = N(0, sigma^2) on every weight.

    Arguments:
        sigma: the prior standard deviation.
        learnable: fit log sigma by gradient descent on the ELBO (an empirical-Bayes prior scale).

    Example:
        >>> prior = GaussianPrior(sigma=2.0)
        >>> round(prior.log_prob(torch.zeros(3)).item(), 4)
        -4.8363

    References:
        Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424.
    """

    def __init__(self, sigma: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        self.sigma = check_positive_float(sigma, "sigma", tensor=True)
        self.learnable = bool(learnable)
        _scale_tensor(self, "log_sigma", self.sigma, self.learnable)

    def log_prob(self, w: torch.Tensor) -> torch.Tensor:
        return _normal_log_prob(w, self.log_sigma).sum()

    def kl_closed_form(self, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        # KL(N(m, s^2) || N(0, t^2)) = log t - log s + (s^2 + m^2) / (2 t^2) - 1/2
        inv_var = torch.exp(-2.0 * self.log_sigma)
        return (
            self.log_sigma * mu.numel()
            - torch.log(sigma).sum()
            + 0.5 * inv_var * (sigma.square() + mu.square()).sum()
            - 0.5 * mu.numel()
        )


@serializable
class ScaleMixturePrior(Prior):
    """The scale-mixture prior p(w) = pi N(0, sigma1^2) + (1 - pi) N(0, sigma2^2) of Blundell et al. (2015).

    With sigma1 > sigma2 (sigma2 << 1) the prior has a heavy tail and a spike near zero. There is no closed
    form for the KL from a Gaussian, so Bayesian layers use a Monte Carlo KL with it.

    Arguments:
        pi: the weight of the first component, strictly between 0 and 1 (default 0.5: a real mixture).
        sigma1: the scale of the wide component.
        sigma2: the scale of the narrow component (default exp(-6), within the paper's grid).
        learnable: fit both log-scales by gradient descent on the ELBO.

    Example:
        >>> prior = ScaleMixturePrior(pi=0.5, sigma1=1.0, sigma2=0.1)
        >>> prior.kl_closed_form(torch.zeros(2), torch.ones(2)) is None
        True
        >>> round(prior.log_prob(torch.zeros(1)).item(), 4)
        0.7858

    References:
        Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks, arXiv:1505.05424, sec. 3.3.
    """

    def __init__(
        self, pi: float = 0.5, sigma1: float = 1.0, sigma2: float = math.exp(-6.0), learnable: bool = False
    ) -> None:
        super().__init__()
        pi = float(pi)
        if not 0.0 < pi < 1.0:
            raise InputError(f"pi must lie strictly between 0 and 1 for a mixture, got {pi}")
        self.pi = pi
        self.sigma1 = check_positive_float(sigma1, "sigma1", tensor=True)
        self.sigma2 = check_positive_float(sigma2, "sigma2", tensor=True)
        self.learnable = bool(learnable)
        _scale_tensor(self, "log_sigma1", self.sigma1, self.learnable)
        _scale_tensor(self, "log_sigma2", self.sigma2, self.learnable)
        self.register_buffer("log_weights", torch.tensor([math.log(pi), math.log1p(-pi)]))

    def log_prob(self, w: torch.Tensor) -> torch.Tensor:
        first = self.log_weights[0] + _normal_log_prob(w, self.log_sigma1)
        second = self.log_weights[1] + _normal_log_prob(w, self.log_sigma2)
        return torch.logaddexp(first, second).sum()


def kl_divergence(prior: Prior, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(q || p) for q = N(mu, diag(sigma^2)): closed form when the prior has one, else one-sample Monte Carlo.

    The Monte Carlo estimate log q(w) - log p(w) at w = mu + sigma * eps is unbiased and differentiable in
    (mu, sigma) by the reparameterisation trick.

    Arguments:
        prior: the weight prior p.
        mu: posterior means, any shape.
        sigma: posterior standard deviations, the shape of ``mu``, positive.

    Returns:
        KL(q || p) summed over all entries, in nats (a scalar tensor); the Monte Carlo estimate draws from
        torch's global generator.

    Example:
        >>> kl_divergence(GaussianPrior(1.0), torch.zeros(4), torch.ones(4)).item()
        0.0
        >>> _ = torch.manual_seed(0)
        >>> mu = torch.zeros(1000, requires_grad=True)
        >>> mc = kl_divergence(ScaleMixturePrior(0.5, 1.0, 0.1), mu, torch.full((1000,), 0.5))
        >>> bool(torch.isfinite(mc)), mc.requires_grad  # differentiable in mu by reparameterisation
        (True, True)

    References:
        Blundell, Cornebise, Kavukcuoglu & Wierstra (2015), Weight Uncertainty in Neural Networks,
        arXiv:1505.05424, eq. 2; Kingma & Welling (2014), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """
    closed = prior.kl_closed_form(mu, sigma)
    if closed is not None:
        return closed
    eps = torch.randn_like(mu)
    w = mu + sigma * eps
    log_q = (-0.5 * _LOG_2PI - torch.log(sigma) - 0.5 * eps.square()).sum()
    return log_q - prior.log_prob(w)
