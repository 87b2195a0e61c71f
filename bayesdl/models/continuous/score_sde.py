"""Score-based diffusion as an SDE: denoising score matching, reverse-SDE and probability-flow sampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import torch

from ...deprecation import sample_call_forms
from ...errors import InputError
from ...io import serializable
from ...validation import check_choice, check_positive_int
from .base import ContinuousTimeModel
from .importance import ImportanceTimeSampler
from .sde import SDE, VPSDE

Weighting = Literal["score", "likelihood"]
WEIGHTINGS: tuple[str, ...] = get_args(Weighting)
TimeSampling = Literal["uniform", "importance"]
TIME_SAMPLINGS: tuple[str, ...] = get_args(TimeSampling)


@serializable
class ScoreSDE(ContinuousTimeModel):
    """A score-based diffusion model on a forward SDE dx = f(t) x dt + g(t) dw, t in [eps, 1].

    The network predicts the noise of x_t = alpha_t x_0 + sigma_t eps, so the score is
    s(x, t) = -eps_hat(x, t) / sigma_t. Training minimises the denoising score-matching loss

        J_lambda = E_t E_{x_0, eps} [ lambda(t) / sigma_t^2 ||eps_hat(x_t, t) - eps||^2 ] / 2,

    with lambda(t) = sigma_t^2 (``weighting="score"``; the DDPM simple loss, reported as the mean squared noise
    error) or lambda(t) = g(t)^2 (``weighting="likelihood"``), for which J plus KL(p_T || prior) bounds the
    KL from the data to the model of the reverse SDE (Song, Durkan, Murray & Ermon 2021, Theorem 1); that loss is
    reported per dimension, and with ``time_sampling="importance"`` t is drawn with density proportional to
    g^2 / sigma^2 to cut its variance.

    The reverse SDE dx = [f x - g^2 s] dt + g dw_bar (Anderson 1982) is sampled by Euler-Maruyama, and the
    probability-flow ODE dx/dt = f x - g^2 s / 2, which has the same marginals, by an adaptive solver. Its
    density, the prior at t = 1 carried to t = eps, is what :func:`bayesdl.inference.ode_log_likelihood` computes
    (data are read as x_eps).

    Arguments:
        network: ``network(x, s)`` predicting the noise, with the shape of x, at network times s = time_scale * t.
        data_shape: the shape of one example, e.g. ``[2]`` or ``[1, 28, 28]``.
        sde: a :class:`~bayesdl.models.continuous.VPSDE` (default), ``SubVPSDE`` or ``VESDE``.
        weighting: "score" or "likelihood", as above.
        time_sampling: "uniform" or "importance" (the latter with ``weighting="likelihood"`` only).
        eps: the smallest time, where the data sit (1e-5 as Song et al.; the score is singular at 0).
        time_scale: the factor on t before the network (1000 for the DDPM networks).

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> from bayesdl.inference import ode_log_likelihood
        >>> model = ScoreSDE(DenoisingMLP(2, hidden=16), data_shape=[2])
        >>> x = torch.randn(8, 2)
        >>> model.loss(x).shape, model.sample(3, method="sde", num_steps=20, seed=0).shape
        (torch.Size([]), torch.Size([3, 2]))
        >>> ode_log_likelihood(model, x, rtol=1e-3, atol=1e-3).log_prob.shape
        torch.Size([8])

    References:
        Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole (2021), Score-Based Generative Modeling through
        Stochastic Differential Equations, arXiv:2011.13456.
        Song, Durkan, Murray & Ermon (2021), Maximum Likelihood Training of Score-Based Diffusion Models,
        arXiv:2101.09258.
        Vincent (2011), A Connection Between Score Matching and Denoising Autoencoders, Neural Computation 23(7).
    """

    def __init__(
        self,
        network: torch.nn.Module,
        data_shape: Sequence[int] = (2,),
        sde: SDE | None = None,
        weighting: Weighting = "score",
        time_sampling: TimeSampling = "uniform",
        eps: float = 1e-5,
        time_scale: float = 1000.0,
    ) -> None:
        super().__init__(network, data_shape, time_scale)
        sde = VPSDE() if sde is None else sde
        if not isinstance(sde, SDE):
            raise InputError(f"sde must be a VPSDE, SubVPSDE or VESDE, got {type(sde).__name__}")
        self.sde = sde
        self.weighting = check_choice(weighting, "weighting", WEIGHTINGS)
        self.time_sampling = check_choice(time_sampling, "time_sampling", TIME_SAMPLINGS)
        if self.time_sampling == "importance" and self.weighting != "likelihood":
            raise InputError(
                "time_sampling='importance' draws t in proportion to the likelihood weight; "
                "use it with weighting='likelihood'"
            )
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < sde.T:
            raise InputError(f"eps must be in (0, {sde.T}), got {eps!r}")
        self.eps = float(eps)
        self.prior_std = sde.prior_std
        self._time_sampler: ImportanceTimeSampler | None = None

    @classmethod
    def from_ddpm(cls, ddpm: Any, **kwargs: Any) -> ScoreSDE:
        """The VP-SDE model whose score is a trained DDPM's noise network (shared, not copied).

        A DDPM with T steps of the linear schedule is the discretisation of the VP SDE with
        beta_min = T beta_1, beta_max = T beta_T, and its network, which takes steps 1..T, becomes a score network
        at step T t: s(x, t) = -eps_theta(x, T t) / sigma_t (Song et al. 2021, section 4 and appendix B).

        Arguments:
            ddpm: a :class:`~bayesdl.models.DDPM` with ``schedule="linear"``, ``prediction="eps"`` and fixed variances.
            kwargs: other :class:`ScoreSDE` arguments (``eps``, ``weighting``, ...).
        """
        if (
            getattr(ddpm, "schedule", None) != "linear"
            or getattr(ddpm, "prediction", None) != "eps"
            or getattr(ddpm, "variance", None) == "learned"
        ):
            raise InputError(
                "from_ddpm needs a DDPM with schedule='linear', prediction='eps' and fixed variances"
            )
        betas = ddpm.betas.double()
        steps = ddpm.num_steps
        sde = VPSDE(float(betas[0]) * steps, float(betas[-1]) * steps)
        return cls(
            ddpm.denoiser, data_shape=list(ddpm.data_shape), sde=sde, time_scale=float(steps), **kwargs
        )

    @property
    def time_span(self) -> tuple[float, float]:
        """(eps, 1): the data time and the prior time."""
        return (self.eps, self.sde.T)

    # ------------------------------------------------------------------ score and fields
    def score(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """s(x, t) = -eps_hat(x, t) / sigma_t, an estimate of grad_x log p_t(x); x [B, ...], t [B]."""
        sigma = self._times(self.sde.marginal(t)[1], x)
        return -self._net(x, t) / sigma

    def velocity(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The probability-flow ODE's dx/dt = f(t) x - g(t)^2 s(x, t) / 2."""
        f = self._times(self.sde.drift_coef(t), x)
        g2 = self._times(self.sde.diffusion(t).pow(2), x)
        return f * x - 0.5 * g2 * self.score(x, t)

    # ------------------------------------------------------------------ training
    def _draw_times(self, n: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Times t [n] and the factor that turns ||eps_hat - eps||^2 into the loss's per-example term."""
        if self.time_sampling == "importance":
            if self._time_sampler is None:
                self._time_sampler = ImportanceTimeSampler(self.sde.likelihood_weight, self.eps, self.sde.T)
            t, weight = self._time_sampler.draw(n, device=like.device, dtype=like.dtype)
            return t, 0.5 * weight
        t = self.eps + (self.sde.T - self.eps) * torch.rand(n, device=like.device, dtype=like.dtype)
        if self.weighting == "score":
            return t, torch.ones_like(t)
        return t, 0.5 * (self.sde.T - self.eps) * self.sde.likelihood_weight(t)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """The denoising score-matching loss on a batch x [B, *data_shape] (a scalar, per dimension)."""
        self.check_data(x)
        t, factor = self._draw_times(len(x), x)
        noise = torch.randn_like(x)
        alpha, sigma = self.sde.marginal(t)
        x_t = self._times(alpha, x) * x + self._times(sigma, x) * noise
        err = (self._net(x_t, t) - noise).pow(2).flatten(1).mean(1)
        return (factor * err).mean()

    # ------------------------------------------------------------------ sampling
    @sample_call_forms()
    def sample(
        self,
        num_samples: int,
        *,
        method: Literal["ode", "sde"] = "ode",
        num_steps: int = 1000,
        rtol: float = 1e-5,
        atol: float = 1e-5,
        ode_method: str = "dopri5",
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw n samples [n, *data_shape] from the prior at t = 1 back to t = eps.

        Arguments:
            num_samples: the number of samples.
            method: "ode" (the probability-flow ODE with ``ode_method``, ``rtol``, ``atol``) or "sde"
                (Euler-Maruyama on the reverse SDE with ``num_steps`` steps; the last step adds no noise).
            seed, generator: the random source.
        """
        n = num_samples
        check_choice(method, "method", ("ode", "sde"))
        if method == "ode":
            return self.sample_ode(n, method=ode_method, rtol=rtol, atol=atol, seed=seed, generator=generator)
        check_positive_int(n, "n")
        check_positive_int(num_steps, "num_steps")
        gen = self._generator(seed, generator)
        x = self.prior_sample(n, gen)
        times = torch.linspace(self.sde.T, self.eps, num_steps + 1, device=x.device, dtype=x.dtype)
        with torch.no_grad():
            for i in range(num_steps):
                t = times[i].expand(n)
                dt = times[i + 1] - times[i]  # negative
                f = self._times(self.sde.drift_coef(t), x)
                g = self._times(self.sde.diffusion(t), x)
                x = x + (f * x - g.pow(2) * self.score(x, t)) * dt
                if i < num_steps - 1:
                    x = x + g * (-dt).sqrt() * self.noise(x.shape, gen)
        return x

    def extra_repr(self) -> str:
        return (
            f"data_shape={list(self.data_shape)}, weighting={self.weighting!r}, "
            f"time_sampling={self.time_sampling!r}, eps={self.eps}"
        )
