"""Denoising diffusion probabilistic models with the full variational bound.

The forward process is FIXED (it has no parameters): q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
hence q(x_t | x_0) = N(sqrt(alpha-bar_t) x_0, (1 - alpha-bar_t) I). Only the reverse process
p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) is learned, through a denoising network that
predicts the noise eps, the clean data x_0, or the velocity v = sqrt(alpha-bar) eps - sqrt(1 - alpha-bar) x_0.

Steps are numbered t = 1..T as in the papers; the denoiser receives t as a float tensor [B].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

import torch

from ...deprecation import sample_call_forms
from ...errors import InputError
from ...io import serializable
from ...results.bits import bits_per_dim
from ...validation import check_choice, check_positive_int, check_range, check_tensor
from ..autoregressive.sampling import completion_inputs
from .bound import variational_bound
from .gaussian import discretized_gaussian_log_likelihood, gaussian_kl, gaussian_log_likelihood
from .inpainting import inpaint
from .process import DiffusionProcess, ReverseStep
from .sampling import ancestral_sample, ddim_sample
from .schedules import SCHEDULES, Schedule, make_betas, schedule_quantities
from .timesteps import ImportanceTimestepSampler

Prediction = Literal["eps", "x0", "v", "grid"]
PREDICTIONS: tuple[str, ...] = get_args(Prediction)
Variance = Literal["beta", "beta_tilde", "learned"]
VARIANCES: tuple[str, ...] = get_args(Variance)
Decoder = Literal["gaussian", "discretized"]
DECODERS: tuple[str, ...] = get_args(Decoder)
Loss = Literal["simple", "hybrid", "vlb"]
LOSSES: tuple[str, ...] = get_args(Loss)
Timesteps = Literal["uniform", "importance"]
TIMESTEPS: tuple[str, ...] = get_args(Timesteps)


def _gather(buffer: torch.Tensor, t: torch.Tensor, ndim: int) -> torch.Tensor:
    """buffer[t - 1] reshaped to [B, 1, ..., 1] so that it broadcasts over a batch of rank ``ndim``."""
    return buffer[t - 1].reshape(-1, *([1] * (ndim - 1)))


@serializable
class DDPM(torch.nn.Module):
    """A denoising diffusion probabilistic model (DDPM) with a fixed Gaussian forward process.

    Arguments:
        denoiser: a module ``denoiser(x_t, t) -> output`` with the shape of x_t (twice the channels,
            i.e. twice dim 1, when ``variance="learned"``: the second half interpolates the log-variance).
        data_shape: the shape of one example, e.g. ``[2]`` or ``[1, 28, 28]``.
        num_steps: T.
        schedule: "linear" (Ho et al. 2020) or "cosine" (Nichol & Dhariwal 2021).
        prediction: what the denoiser predicts: "eps", "x0" or "v"; or "grid" (discretized decoder only):
            the denoiser returns ``num_levels`` logits per data dimension (``num_levels`` times dim 1,
            ordered channel-major), and x0_hat is the posterior mean over the grid levels c_k under
            prior logits + the likelihood log N(x_t; sqrt(alpha-bar_t) c_k, 1 - alpha-bar_t) of each level.
            This is the exact optimal denoiser for data with independent dimensions, and when the noise is
            far below the grid spacing it snaps x_t to the right level, which a plain network cannot
            learn; use it for data with few levels (e.g. 17). The simple loss is then the eps-MSE of the
            implied eps_hat.
        variance: the reverse variance sigma_t^2: "beta" (beta_t), "beta_tilde" (the posterior variance
            beta-tilde_t; at t = 1, beta-tilde_2 is used for the decoder), or "learned"
            (log sigma^2 = f log beta_t + (1 - f) log beta-tilde_t with f = (v + 1) / 2 from the network).
        decoder: L_0 = -log p(x_0 | x_1): "gaussian" (continuous, for vector data) or "discretized"
            (data on a grid of ``num_levels`` points in [-1, 1], e.g. 8-bit images mapped by 2k/255 - 1).
        num_levels: the number of grid points of the discretized decoder.
        loss: "simple" (MSE of the denoiser's target at uniform t: the eps-MSE of Ho et al. for
            prediction="eps"), "hybrid" (simple + hybrid_weight * L_vlb, with the mean's gradient stopped
            in L_vlb; needs variance="learned"), or "vlb" (an unbiased estimate of the full bound).
        timesteps: how t is drawn for "hybrid" and "vlb": "uniform" or "importance" (p_t proportional
            to the RMS of recent terms L_t).
        hybrid_weight: lambda of the hybrid loss (0.001 in Nichol & Dhariwal).

    A note on bounds with the cosine schedule: beta_T is capped at 0.999 (as Nichol & Dhariwal do), so
    alpha_T = 0.001, and with ``prediction="eps"`` the KL term of step T charges a squared eps error d^2
    at beta_T / (2 alpha_T (1 - alpha-bar_T)) d^2, about 500 d^2 nats per dimension (0.01 d^2 on the
    linear schedule; summed over all steps the weights are 512 against 9.4). A network trained with the
    simple loss sees t = T once in T draws and keeps small errors there, which then dominate the bound:
    on the digits (quick settings) the cosine/eps bound was 18.1 bits/dim, 660 of its 667 nats from
    that one step, against 3.21 for linear/eps. This is not a bug (the bound is exact for the optimal
    denoiser on both schedules, and the other terms are close to the linear schedule's); use
    ``prediction="v"`` with the cosine schedule, whose eps error at t = T is scaled by
    sqrt(alpha-bar_T) = 5e-5: cosine/v gave 3.05 bits/dim on the same run. (``prediction="x0"`` fails
    the other way: x0 errors are amplified at small t, and cosine/x0 gave 453 bits/dim.)

    Example:
        >>> from bayesdl.nn import DenoisingMLP
        >>> model = DDPM(DenoisingMLP(2, hidden=16), data_shape=[2], num_steps=20)
        >>> x0 = torch.randn(8, 2)
        >>> model.loss(x0).shape, model.nll_bound(x0, seed=0).shape, model.sample(3, seed=0).shape
        (torch.Size([]), torch.Size([8]), torch.Size([3, 2]))

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
        Nichol & Dhariwal (2021), Improved Denoising Diffusion Probabilistic Models, arXiv:2102.09672.
        Salimans & Ho (2022), Progressive Distillation for Fast Sampling of Diffusion Models (v-prediction), arXiv:2202.00512.
    """

    #: the denoiser may run under bf16/fp16 autocast; its output is cast back before the loss
    mixed_precision_safe = True

    def __init__(
        self,
        denoiser: torch.nn.Module,
        data_shape: Sequence[int] = (2,),
        num_steps: int = 1000,
        schedule: Schedule = "linear",
        prediction: Prediction = "eps",
        variance: Variance = "beta",
        decoder: Decoder = "gaussian",
        num_levels: int = 256,
        loss: Loss = "simple",
        timesteps: Timesteps = "uniform",
        hybrid_weight: float = 0.001,
    ) -> None:
        super().__init__()
        if not isinstance(denoiser, torch.nn.Module):
            raise InputError(f"denoiser must be a torch.nn.Module, got {type(denoiser).__name__}")
        if not isinstance(data_shape, (list, tuple)) or not data_shape:
            raise InputError(f"data_shape must be a non-empty list of positive ints, got {data_shape!r}")
        self.data_shape = tuple(check_positive_int(d, "data_shape entry") for d in data_shape)
        self.num_steps = check_positive_int(num_steps, "num_steps")
        self.schedule = check_choice(schedule, "schedule", SCHEDULES)
        self.prediction = check_choice(prediction, "prediction", PREDICTIONS)
        self.variance = check_choice(variance, "variance", VARIANCES)
        self.decoder = check_choice(decoder, "decoder", DECODERS)
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)
        self.loss_type = check_choice(loss, "loss", LOSSES)
        self.timesteps = check_choice(timesteps, "timesteps", TIMESTEPS)
        self.hybrid_weight = float(hybrid_weight)
        if self.variance == "learned" and self.loss_type == "simple":
            raise InputError(
                "variance='learned' is trained only by the bound: use loss='hybrid' or loss='vlb'"
            )
        if self.loss_type == "hybrid" and self.variance != "learned":
            raise InputError(
                "loss='hybrid' trains learned variances; use variance='learned' (or loss='simple'/'vlb')"
            )
        if self.prediction == "grid" and self.decoder != "discretized":
            raise InputError(
                "prediction='grid' needs decoder='discretized' (it predicts a distribution over the grid levels)"
            )
        if self.prediction == "grid" and self.variance == "learned":
            raise InputError(
                "prediction='grid' does not support variance='learned'; use 'beta' or 'beta_tilde'"
            )
        if self.loss_type == "simple" and self.timesteps != "uniform":
            raise InputError(
                "timesteps='importance' applies to the bound; use it with loss='vlb' or 'hybrid'"
            )
        self.denoiser = denoiser
        for name, value in schedule_quantities(make_betas(schedule, num_steps)).items():
            self.register_buffer(name, value.to(torch.float32))
        self.register_buffer("log_betas", torch.log(self.betas))
        self.step_sampler = ImportanceTimestepSampler(num_steps) if self.timesteps == "importance" else None

    # ------------------------------------------------------------------ checks and helpers
    @property
    def num_dims(self) -> int:
        """D, the number of dimensions of one example."""
        n = 1
        for d in self.data_shape:
            n *= d
        return n

    def _check_data(self, x0: object, name: str = "x0") -> torch.Tensor:
        check_tensor(x0, name, shape=[None, *self.data_shape], floating=True)
        if self.decoder == "discretized":
            check_range(x0, name, -1.0, 1.0)
            levels = (x0 + 1) * (self.num_levels - 1) / 2
            if not bool(((levels - levels.round()).abs() < 1e-3).all()):
                raise InputError(
                    f"{name} must lie on the grid 2k/{self.num_levels - 1} - 1 (k = 0..{self.num_levels - 1}) for the "
                    "discretized decoder; map levels k to 2k/(K-1) - 1"
                )
        return x0

    def _check_t(self, t: object, batch: int) -> torch.Tensor:
        check_tensor(t, "t", shape=[batch])
        if t.is_floating_point() or int(t.min()) < 1 or int(t.max()) > self.num_steps:
            raise InputError(f"t must hold integer steps in 1..{self.num_steps}")
        return t

    def _generator(self, seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
        if generator is not None:
            return generator
        if seed is None:
            return None
        g = torch.Generator(device=self.betas.device)
        g.manual_seed(int(seed))
        return g

    def noise(self, shape: Sequence[int], generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard-normal draws of ``shape`` on the model's device and dtype (x_T and the per-step noise)."""
        return torch.randn(
            tuple(shape), generator=generator, device=self.betas.device, dtype=self.betas.dtype
        )

    # ------------------------------------------------------------------ forward process (fixed)
    def q_mean_variance(self, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(x_t | x_0) = N(sqrt(alpha-bar_t) x_0, (1 - alpha-bar_t) I); t in 1..T."""
        self._check_t(t, len(x0))
        ab = _gather(self.alpha_bar, t, x0.dim())
        return ab.sqrt() * x0, (1 - ab).expand_as(x0)

    def q_sample(
        self,
        x0: torch.Tensor,
        t: torch.Tensor,
        noise: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw x_t ~ q(x_t | x_0) in closed form: sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps."""
        self._check_t(t, len(x0))
        if noise is None:
            noise = self.noise(x0.shape, generator)
        ab = _gather(self.alpha_bar, t, x0.dim())
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def q_posterior(
        self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eqs. 6-7); t in 1..T.

        mean = beta_t sqrt(alpha-bar_{t-1}) / (1 - alpha-bar_t) x_0 + (1 - alpha-bar_{t-1}) sqrt(alpha_t) / (1 - alpha-bar_t) x_t,
        variance = beta-tilde_t = beta_t (1 - alpha-bar_{t-1}) / (1 - alpha-bar_t).
        """
        self._check_t(t, len(x0))
        mean = (
            _gather(self.posterior_mean_coef_x0, t, x0.dim()) * x0
            + _gather(self.posterior_mean_coef_xt, t, x0.dim()) * x_t
        )
        return mean, _gather(self.posterior_variance, t, x0.dim()).expand_as(x0)

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        """L_T = KL(q(x_T | x_0) || N(0, I)) per example, nats [B]."""
        t = torch.full((len(x0),), self.num_steps, device=x0.device, dtype=torch.long)
        mean, var = self.q_mean_variance(x0, t)
        kl = gaussian_kl(mean, var.log(), torch.zeros_like(mean), torch.zeros_like(mean))
        return kl.flatten(1).sum(1)

    # ------------------------------------------------------------------ reverse process
    def _split_output(self, out: torch.Tensor, x_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.variance == "learned":
            if out.dim() != x_t.dim() or out.shape[1] != 2 * x_t.shape[1] or out.shape[2:] != x_t.shape[2:]:
                raise InputError(
                    f"with variance='learned' the denoiser must return twice the channels of x_t {tuple(x_t.shape)}, got {tuple(out.shape)}"
                )
            return out.chunk(2, dim=1)
        if self.prediction == "grid":
            k = self.num_levels
            if out.dim() != x_t.dim() or out.shape[1] != k * x_t.shape[1] or out.shape[2:] != x_t.shape[2:]:
                raise InputError(
                    f"with prediction='grid' the denoiser must return {k} times the channels (dim 1) of x_t "
                    f"{tuple(x_t.shape)}, got {tuple(out.shape)}"
                )
            return out, None
        if out.shape != x_t.shape:
            raise InputError(
                f"the denoiser must return the shape of x_t {tuple(x_t.shape)}, got {tuple(out.shape)}"
            )
        return out, None

    def grid_posterior_mean(self, logits: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """E[x_0 | x_t] over the grid levels c_k = 2k/(K-1) - 1 for ``prediction="grid"``: weights
        softmax_k(logits_k + log N(x_t; sqrt(alpha-bar_t) c_k, 1 - alpha-bar_t)); logits [B, C*K, ...]."""
        k = self.num_levels
        grid = torch.linspace(-1.0, 1.0, k, device=x_t.device, dtype=x_t.dtype)
        logits = logits.reshape(x_t.shape[0], x_t.shape[1], k, *x_t.shape[2:])
        shape = (1, 1, k) + (1,) * (x_t.dim() - 2)
        ab = _gather(self.alpha_bar, t, x_t.dim() + 1)
        log_lik = -0.5 * (x_t.unsqueeze(2) - ab.sqrt() * grid.reshape(shape)) ** 2 / (1 - ab)
        weights = torch.softmax(logits + log_lik, dim=2)
        return (weights * grid.reshape(shape)).sum(2)

    def _estimates(
        self, out: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, clip: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ab = _gather(self.alpha_bar, t, x_t.dim())
        if self.prediction == "grid":
            x0 = self.grid_posterior_mean(out, x_t, t)
            eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
        elif self.prediction == "eps":
            eps = out
            x0 = (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()
        elif self.prediction == "x0":
            x0 = out
            eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
        else:
            x0 = ab.sqrt() * x_t - (1 - ab).sqrt() * out
            eps = (1 - ab).sqrt() * x_t + ab.sqrt() * out
        if clip:
            x0 = x0.clamp(-1.0, 1.0)
            eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
        return x0, eps

    def reverse_log_variance(
        self, t: torch.Tensor, frac_output: torch.Tensor | None = None, ndim: int = 2
    ) -> torch.Tensor:
        """log sigma_t^2 of p(x_{t-1} | x_t) for steps t (1..T), broadcastable to a batch of rank ``ndim``."""
        if self.variance == "beta":
            return _gather(self.log_betas, t, ndim)
        lower = _gather(self.posterior_log_variance_clipped, t, ndim)
        if self.variance == "beta_tilde":
            return lower
        assert frac_output is not None
        frac = (frac_output + 1) / 2
        return frac * _gather(self.log_betas, t, ndim) + (1 - frac) * lower

    def reverse_step(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        clip: bool = False,
        detach_mean: bool = False,
        output: torch.Tensor | None = None,
    ) -> ReverseStep:
        """p(x_{t-1} | x_t) = N(mean, exp(log_var)) at steps t (1..T), with the denoiser's x_0 and eps estimates.

        The mean is E_q[x_{t-1} | x_t, x_0 = x0_hat], which equals (x_t - beta_t / sqrt(1 - alpha-bar_t) eps_hat) / sqrt(alpha_t).
        ``clip`` clamps x0_hat to [-1, 1] (for image samplers only; the bound never clips).
        ``detach_mean`` stops the gradient through the mean (hybrid loss); ``output`` reuses a denoiser output.
        """
        if output is None:
            output = self.denoiser(x_t, t.to(x_t.dtype))
        out, frac = self._split_output(output, x_t)
        if detach_mean:
            out = out.detach()
        x0, eps = self._estimates(out, x_t, t, clip)
        if self.prediction == "x0" or clip:
            mean = self.q_posterior(x0, x_t, t)[0]
        else:
            b = _gather(self.betas, t, x_t.dim())
            mean = (x_t - b / (1 - _gather(self.alpha_bar, t, x_t.dim())).sqrt() * eps) / (1 - b).sqrt()
        log_var = self.reverse_log_variance(t, frac, x_t.dim()).expand_as(x_t)
        return ReverseStep(mean, log_var, x0, eps)

    def bound_terms_at(
        self,
        x0: torch.Tensor,
        x_t: torch.Tensor,
        t: torch.Tensor,
        detach_mean: bool = False,
        output: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The bound term of step t for each example, nats [B]: L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t))
        for t >= 2, and the decoder term L_0 = -log p(x_0 | x_1) for t = 1."""
        step = self.reverse_step(x_t, t, detach_mean=detach_mean, output=output)
        post_mean, post_var = self.q_posterior(x0, x_t, t)
        kl = gaussian_kl(
            post_mean, post_var.clamp_min(torch.finfo(post_var.dtype).tiny).log(), step.mean, step.log_var
        )
        if self.decoder == "gaussian":
            nll = -gaussian_log_likelihood(x0, step.mean, step.log_var)
        else:
            nll = -discretized_gaussian_log_likelihood(x0, step.mean, step.log_var, self.num_levels)
        first = (t == 1).reshape(-1, *([1] * (x0.dim() - 1)))
        return torch.where(first, nll, kl).flatten(1).sum(1)

    # ------------------------------------------------------------------ training
    def _draw_t(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self.step_sampler is not None:
            t, w = self.step_sampler.draw(n)
            return t.to(device), w.to(device)
        t = torch.randint(1, self.num_steps + 1, (n,), device=device)
        return t, torch.ones(n, device=device)

    def _target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.prediction in ("eps", "grid"):
            return noise
        if self.prediction == "x0":
            return x0
        ab = _gather(self.alpha_bar, t, x0.dim())
        return ab.sqrt() * noise - (1 - ab).sqrt() * x0

    def loss(self, x0: torch.Tensor) -> torch.Tensor:
        """The training loss on a batch x0 (a scalar).

        * "simple": mean over examples and dimensions of ||target - denoiser(x_t, t)||^2 with t uniform
          on 1..T and x_t ~ q(x_t | x_0) (target eps, x_0 or v).
        * "hybrid": simple + lambda T L_t / D, with the reverse mean's gradient stopped in L_t
          (Nichol & Dhariwal 2021, section 3.1); t weighted by 1 / (T p_t) when importance-sampled.
        * "vlb": (L_T + L_t / p_t) / D, an unbiased estimate of the full bound in nats per dimension.
        """
        return self._loss(x0, self.denoiser)

    def _loss(
        self, x0: torch.Tensor, denoise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """:meth:`loss` with the network called as ``denoise(x_t, t)`` (a conditional model binds its labels)."""
        self._check_data(x0)
        t, weights = self._draw_t(len(x0), x0.device)
        noise = torch.randn_like(x0)
        x_t = self.q_sample(x0, t, noise)
        output = denoise(x_t, t.to(x0.dtype)).to(x0.dtype)  # the loss in the data's precision under autocast
        if self.loss_type == "simple":
            out, _ = self._split_output(output, x_t)
            if self.prediction == "grid":
                out = self._estimates(out, x_t, t, clip=False)[1]
            return (out - self._target(x0, noise, t)).pow(2).flatten(1).mean(1).mean()
        if self.loss_type == "hybrid":
            out, _ = self._split_output(output, x_t)
            mse = (out - self._target(x0, noise, t)).pow(2).flatten(1).mean(1)
            terms = self.bound_terms_at(x0, x_t, t, detach_mean=True, output=output)
            per_example = weights * (mse + self.hybrid_weight * self.num_steps * terms / self.num_dims)
        else:
            terms = self.bound_terms_at(x0, x_t, t, output=output)
            per_example = (self.prior_kl(x0) + weights * self.num_steps * terms) / self.num_dims
        if self.step_sampler is not None and self.training:
            self.step_sampler.update(t, terms)
        return per_example.mean()

    # ------------------------------------------------------------------ likelihood
    def nll_bound(
        self,
        x0: torch.Tensor,
        *,
        y: int | torch.Tensor | None = None,
        return_terms: bool = False,
        t_chunk: int | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ):
        """The variational bound on -log p(x_0), per example, in nats: L_T + sum_{t=2}^T L_{t-1} + L_0.

        Every one of the T terms is evaluated (no sampling of t), each with one draw of
        x_t ~ q(x_t | x_0); for the discretized decoder the bound is on the probability of the discrete
        data, so ``bayesdl.inference.bits_per_dim(-bound, D)`` gives bits/dim (see :meth:`bits_per_dim`).

        Arguments:
            x0: data [B, *data_shape].
            y: labels [B] (or one int) of a :class:`~bayesdl.models.diffusion.ConditionalDDPM`, for the
                bound on -log p(x_0 | y); refused by an unconditional DDPM.
            return_terms: also return the per-term breakdown.
            t_chunk: how many steps are evaluated in one denoiser call (default: as many as keep the
                call under 2**16 rows and 2**18 input elements); the result does not depend on it, up to the draws.
            seed, generator: the random source of the x_t draws.

        Returns:
            the bound [B] (nats), or a :class:`~bayesdl.models.diffusion.bound.BoundTerms` with
            ``total``, ``prior`` [B], ``terms`` [B, T] (column t-1 holds L_{t-1}; column 0 is L_0).
        """
        self._check_data(x0)
        process = self.conditioned(len(x0), y)
        terms = variational_bound(process, x0, t_chunk=t_chunk, generator=self._generator(seed, generator))
        return terms if return_terms else terms.total

    def bits_per_dim(self, x0: torch.Tensor, **kwargs) -> torch.Tensor:
        """The bound in bits per dimension per example [B] (through the one helper ``bayesdl.inference.bits_per_dim``).

        For the discretized decoder this bounds -log2 P(x_0) / D of the discrete data.
        """
        return bits_per_dim(-self.nll_bound(x0, **kwargs), self.num_dims)

    # ------------------------------------------------------------------ sampling
    def conditioned(
        self, n: int, y: int | torch.Tensor | None = None, guidance: float | None = None
    ) -> DiffusionProcess:
        """The process that the samplers and the bound run for a batch of ``n``: the model itself.

        A :class:`~bayesdl.models.diffusion.ConditionalDDPM` returns its process at labels ``y`` with
        guidance scale ``guidance``; an unconditional DDPM refuses both with an InputError.
        """
        if y is not None:
            raise InputError(
                "y: this DDPM is unconditional and takes no labels; train a ConditionalDDPM for class-conditional "
                "sampling"
            )
        if guidance is not None:
            raise InputError(
                "guidance: classifier-free guidance needs a class-conditional model trained with label dropout "
                "(ConditionalDDPM with p_uncond > 0); this DDPM is unconditional"
            )
        return self

    @sample_call_forms()
    def sample(
        self,
        num_samples: int,
        *,
        y: int | torch.Tensor | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        clip: bool = False,
        keep: Sequence[int] = (),
    ):
        """Ancestral sampling: x_T ~ N(0, I), then x_{t-1} ~ p(x_{t-1} | x_t) for t = T..2, and the
        decoder mean at t = 1 (as Ho et al. 2020 display samples).

        Arguments:
            num_samples: the number of samples (draws).
            y, guidance: the labels (one int or [num_samples]) and the guidance scale w of a
                :class:`~bayesdl.models.diffusion.ConditionalDDPM`; an unconditional DDPM refuses them.
            seed, generator: the random source (neither: fresh draws from torch's global generator).
            clip: clamp x0_hat to [-1, 1] in each step (images only).
            keep: steps t (0..T; 0 is the final sample) whose x_t to return as well.

        Returns:
            samples [n, *data_shape], or ``(samples, {t: x_t})`` when ``keep`` is given.
        """
        check_positive_int(num_samples, "num_samples")
        process = self.conditioned(num_samples, y, guidance)
        return ancestral_sample(
            process, num_samples, generator=self._generator(seed, generator), clip=clip, keep=keep
        )

    def ddim_sample(
        self,
        n: int,
        num_steps: int = 50,
        eta: float = 0.0,
        *,
        y: int | torch.Tensor | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        clip: bool = False,
    ) -> torch.Tensor:
        """DDIM sampling on ``num_steps`` evenly spaced steps with stochasticity ``eta`` (Song, Meng & Ermon 2020).

        eta = 0 is the deterministic DDIM; eta = 1 with all T steps is ancestral sampling with
        variance beta-tilde. ``y`` and ``guidance`` as in :meth:`sample`.
        """
        check_positive_int(n, "n")
        process = self.conditioned(n, y, guidance)
        return ddim_sample(
            process, n, num_steps=num_steps, eta=eta, generator=self._generator(seed, generator), clip=clip
        )

    def complete(
        self,
        x_partial: torch.Tensor,
        mask: torch.Tensor,
        y: int | torch.Tensor | None = None,
        *,
        guidance: float | None = None,
        resample: int = 1,
        jump: int = 1,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        clip: bool = False,
    ) -> torch.Tensor:
        """Inpaint the entries where ``mask`` is False, keeping the observed ones exactly (the API of
        :meth:`PixelCNN.complete <bayesdl.models.PixelCNN.complete>`).

        ``resample = 1`` is the replacement method: at each reverse step the observed entries are set to a
        draw of q(x_{t-1} | x_0). ``resample = U > 1`` is RePaint (Lugmayr et al. 2022, arXiv:2201.09865):
        every ``jump`` steps the chain goes ``jump`` steps back up the forward process and is denoised
        again, U - 1 extra times, at about U times the cost; see :mod:`bayesdl.models.diffusion.inpainting`.
        Unlike PixelCNN's raster-order completion, every observed entry informs every missing one, but the
        result is an approximate draw from p(x_missing | x_observed), not an exact one.

        Arguments:
            x_partial: [B, *data_shape], valid data where observed (anything, even NaN, where missing).
            mask: bool or 0/1 of the shape of x_partial or broadcastable to it; True = observed.
            y, guidance: labels and guidance scale of a :class:`~bayesdl.models.diffusion.ConditionalDDPM`.
            resample: U, the number of times each jump is denoised (1: replacement, no resampling).
            jump: j, the length of RePaint's jumps back.
            seed, generator: the random source.
            clip: clamp each step's x_0 estimate to [-1, 1] (images only).

        Returns:
            The completion [B, *data_shape], equal to ``x_partial`` where observed.
        """
        x, observed = completion_inputs(x_partial, mask, self.data_shape)
        x, observed = x.to(self.betas), observed.to(self.betas.device)
        process = self.conditioned(len(x), y, guidance)
        return inpaint(
            process,
            x,
            observed,
            resample=resample,
            jump=jump,
            generator=self._generator(seed, generator),
            clip=clip,
        )

    def extra_repr(self) -> str:
        return (
            f"data_shape={list(self.data_shape)}, num_steps={self.num_steps}, schedule={self.schedule!r}, "
            f"prediction={self.prediction!r}, variance={self.variance!r}, decoder={self.decoder!r}, loss={self.loss_type!r}"
        )
