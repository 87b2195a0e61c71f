"""The variational autoencoder: pluggable posterior, prior and decoder; ELBO, beta, free bits and IWAE.

Generative model p(z) p(x|z), inference model q(z|x) (Kingma & Welling 2013, arXiv:1312.6114;
Rezende, Mohamed & Wierstra 2014, arXiv:1401.4082). Per example,

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x),

and the importance-weighted bound with K samples z_k ~ q(z|x) (Burda, Grosse & Salakhutdinov 2015,
arXiv:1509.00519)

    L_K(x) = E[log (1/K) sum_k p(x, z_k) / q(z_k|x)],   ELBO = L_1 <= L_K <= log p(x).

Plugging in other parts
-----------------------
The VAE never looks inside its three parts; it only calls

* ``encoder(x)`` -> q(z|x), a distribution with batch shape [B], event shape [L], ``rsample`` and ``log_prob``;
* ``prior(encoder)`` -> p(z), a distribution with event shape [L], ``log_prob`` and ``sample``;
* ``decoder(z)`` -> p(x|z), a distribution with batch shape z.shape[:-1] and event shape
  ``decoder.data_shape``, plus ``decoder.check_data(x, name)``.

Two optional shortcuts keep the training loss free of distribution objects (it is the hot path of
every epoch): a :class:`~bayesdl.models.vae.encoders.GaussianEncoder` with the standard-Normal prior
gives (mu, sigma) directly, so z = mu + sigma * eps and the KL is 1/2 sum(mu^2 + sigma^2 - 1 - 2 log sigma);
and a decoder with ``log_likelihood(z, x)`` (the MLP and conv decoders: one fused BCE for Bernoulli
data) scores x without building p(x|z). Both give the same numbers as the distribution path.

So a flow posterior is an encoder module whose ``forward`` returns
``TransformedDistribution(Normal(mu(x), sigma(x)).to_event(1), [flow transforms conditioned on x])``:
its ``log_prob`` does the log-det bookkeeping log q_K(z_K) = log q_0(z_0) - sum_k log|det J_k|, and
because no closed-form KL exists the VAE switches to the Monte Carlo KL on its own. A flow prior is
a prior module returning ``TransformedDistribution(N(0, I), transforms)``. A PixelCNN decoder is
a decoder module whose distribution's ``log_prob(x)`` runs the masked network on x given z.
"""

from __future__ import annotations

import contextlib
import math
from typing import Literal, get_args

import pyro
import torch
from pyro.nn import PyroModule
from torch.distributions import kl_divergence

from ...bounds import elbo_terms, kl_to_prior, log_importance_weights
from ...deprecation import sample_call_forms
from ...errors import InputError
from ...io import serializable
from ...randomness import seed_from, seeded_rng
from ...validation import check_choice, check_positive_int, check_tensor, is_checked
from .encoders import GaussianEncoder
from .priors import StandardNormalPrior

Objective = Literal["elbo", "iwae"]
OBJECTIVES: tuple[str, ...] = get_args(Objective)


def kl_per_dimension(
    q: torch.distributions.Distribution, p: torch.distributions.Distribution
) -> torch.Tensor | None:
    """KL per latent dimension [B, L] when q and p are both factorised Normals (``Normal(...).to_event(1)``), else None."""
    if isinstance(q, torch.distributions.Independent) and isinstance(p, torch.distributions.Independent):
        qb, pb = q.base_dist, p.base_dist
        if isinstance(qb, torch.distributions.Normal) and isinstance(pb, torch.distributions.Normal):
            return kl_divergence(qb, pb)
    return None


@serializable
class VAE(PyroModule):
    """A variational autoencoder with a pluggable posterior (encoder), prior and decoder.

    Train it with the shared trainer in either of two ways:

    * ``Trainer(vae)``: minimises :meth:`loss`, the mean per-example negative ELBO with the
      analytic KL where it exists (or the negative IWAE bound when ``objective="iwae"``), with
      beta, KL warm-up (:class:`~bayesdl.models.vae.KLWarmup`) and free bits;
    * ``Trainer(vae, elbo="trace" | "meanfield" | "iwae")``: any Pyro ELBO on :meth:`model` /
      :meth:`guide`, whose sites sit in ``pyro.plate("data", B)`` so the trainer scales
      minibatches. beta and warm-up act there by scaling the z site; free bits do not
      (they are not an ELBO). Pyro's "iwae" (RenyiELBO, alpha=0) gives the same per-example
      bound as ``objective="iwae"`` here, because z is the only latent and sits in the data plate.

    Arguments:
        encoder: q(z|x), e.g. :class:`~bayesdl.models.vae.MLPEncoder`.
        decoder: p(x|z), e.g. :class:`~bayesdl.models.vae.MLPDecoder`.
        prior: p(z); a standard Normal when None.
        beta: the weight of the KL term (beta-VAE; 1 gives the ELBO).
        free_bits: lambda >= 0, nats per latent dimension. The KL term becomes
            sum_j max(lambda, mean_batch KL_j) (Kingma et al. 2016, arXiv:1606.04934), per dimension
            when q and p are factorised Normals, otherwise max(lambda * L, mean_batch KL) on the whole KL.
        num_particles: samples of z per example (Monte Carlo average for "elbo", K for "iwae").
        objective: "elbo" or "iwae" (the per-example importance-weighted bound with K = num_particles).

    Example:
        >>> from bayesdl.models.vae import MLPEncoder, MLPDecoder
        >>> vae = VAE(MLPEncoder([6], 2, hidden_sizes=[8]), MLPDecoder(2, [6], hidden_sizes=[8]))
        >>> x = torch.bernoulli(torch.full((4, 6), 0.5))
        >>> vae.loss(x).shape, vae.negative_elbo(x).shape, vae.sample(3, seed=0).shape
        (torch.Size([]), torch.Size([4]), torch.Size([3, 6]))

    References:
        Kingma & Welling (2013), arXiv:1312.6114; Burda, Grosse & Salakhutdinov (2015), arXiv:1509.00519;
        Higgins et al. (2017), beta-VAE (ICLR); Kingma et al. (2016), arXiv:1606.04934 (free bits);
        Bowman et al. (2015), arXiv:1511.06349 (KL warm-up).
    """

    @property
    def mixed_precision_safe(self) -> bool:
        """True for Gaussian (MLP/conv) encoders with MLP/conv decoders and standard or Vamp priors, whose
        KL and likelihood are computed in float32 under autocast; flow posteriors/priors and PixelCNN
        decoders (log-determinants and long autoregressive products) are not declared safe."""
        from .decoders import ConvDecoder, MLPDecoder
        from .encoders import ConvEncoder, MLPEncoder
        from .priors import StandardNormalPrior, VampPrior

        return (
            isinstance(self.encoder, (MLPEncoder, ConvEncoder))
            and isinstance(self.decoder, (MLPDecoder, ConvDecoder))
            and isinstance(self.prior, (StandardNormalPrior, VampPrior))
        )

    def __init__(
        self,
        encoder: torch.nn.Module,
        decoder: torch.nn.Module,
        prior: torch.nn.Module | None = None,
        beta: float = 1.0,
        free_bits: float = 0.0,
        num_particles: int = 1,
        objective: Objective = "elbo",
    ) -> None:
        super().__init__()
        for name, module, attrs in (
            ("encoder", encoder, ("latent_dim", "data_shape")),
            ("decoder", decoder, ("data_shape", "check_data")),
        ):
            if not isinstance(module, torch.nn.Module) or not all(hasattr(module, a) for a in attrs):
                raise InputError(f"{name} must be a torch module with {', '.join(attrs)}")
        if tuple(encoder.data_shape) != tuple(decoder.data_shape):
            raise InputError(
                f"encoder data_shape {list(encoder.data_shape)} differs from decoder data_shape {list(decoder.data_shape)}"
            )
        prior = StandardNormalPrior(encoder.latent_dim) if prior is None else prior
        if getattr(prior, "latent_dim", encoder.latent_dim) != encoder.latent_dim:
            raise InputError(
                f"prior latent_dim {prior.latent_dim} differs from encoder latent_dim {encoder.latent_dim}"
            )
        if not (float(beta) > 0 and math.isfinite(float(beta))):
            raise InputError(f"beta must be a positive number, got {beta!r}")
        if not (float(free_bits) >= 0 and math.isfinite(float(free_bits))):
            raise InputError(f"free_bits must be >= 0 nats per dimension, got {free_bits!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.prior = prior
        self.latent_dim = int(encoder.latent_dim)
        self.data_shape = tuple(int(s) for s in encoder.data_shape)
        self.beta = float(beta)
        self.free_bits = float(free_bits)
        self.num_particles = check_positive_int(num_particles, "num_particles")
        self.objective = str(check_choice(objective, "objective", OBJECTIVES))
        #: multiplies beta; set by KLWarmup during training (1 = no warm-up)
        self.kl_weight = 1.0

    # ------------------------------------------------------------------ the three parts
    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise InputError for a wrong shape, NaN, or values the likelihood cannot score (e.g. non-binary).

        A training batch whose rows the trainer validated with this method at the start of ``fit``
        is not checked again (:func:`bayesdl.validation.is_checked`).
        """
        if is_checked(x):
            return x
        check_tensor(x, name, shape=[None, *self.data_shape], finite=False)
        return self.decoder.check_data(x, name)  # each likelihood checks finiteness itself

    def encode(self, x: torch.Tensor) -> torch.distributions.Distribution:
        """q(z|x) for a batch x [B, *data_shape] (checked), a distribution with batch shape [B]."""
        self.check_data(x)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.distributions.Distribution:
        """p(x|z) for codes z [..., L], a distribution with batch shape z.shape[:-1]."""
        check_tensor(z, "z", floating=True)
        if z.shape[-1] != self.latent_dim:
            raise InputError(f"z must have last dimension {self.latent_dim}, got shape {list(z.shape)}")
        return self.decoder(z)

    def prior_distribution(self) -> torch.distributions.Distribution:
        """p(z), with empty batch shape and event shape [L]."""
        return self.prior(self.encoder)

    # the protocol of bayesdl.inference.estimators (latent-variable models)
    proposal = encode
    likelihood = decode

    # ------------------------------------------------------------------ objectives
    def _kl_scale(self) -> float:
        return self.beta * self.kl_weight

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats, shape z.shape[:-1] (x is not checked here; x broadcasts over sample dimensions).

        Uses the decoder's direct formula when it has one (``decoder.log_likelihood``), which skips
        building a distribution object on the training hot path; otherwise ``decoder(z).log_prob(x)``.
        """
        direct = getattr(self.decoder, "log_likelihood", None)
        return direct(z, x) if direct is not None else self.decoder(z).log_prob(x)

    def kl_to_prior(self, q: torch.distributions.Distribution, z: torch.Tensor | None = None) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per example [B]: closed form when there is one, else the Monte Carlo
        average of log q(z) - log p(z) over the given samples z [K, B, L] (or [B, L] for one sample).
        """
        return kl_to_prior(q, self.prior_distribution(), z)

    def elbo_terms(
        self, x: torch.Tensor, num_particles: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-example reconstruction term E_q[log p(x|z)] and KL(q(z|x) || p(z)), each [B], in nats.

        The KL is analytic when there is a closed form for the pair (diagonal Gaussians), otherwise
        a Monte Carlo average of log q(z) - log p(z) over the same samples (:func:`bayesdl.bounds.elbo_terms`).
        A Gaussian encoder with the N(0, I) prior takes a shortcut without distribution objects that
        gives the same numbers.
        """
        k = num_particles or self.num_particles
        if not self._gaussian_fast_path():
            return elbo_terms(self, x, k)
        shape = torch.Size([] if k == 1 else [k])  # one particle: no sample dimension to average over
        self.check_data(x)
        loc, scale = self.encoder.gaussian_params(x)
        z = loc + scale * loc.new_empty(shape + loc.shape).normal_()  # the draws of Normal.rsample
        kl = 0.5 * (loc.square() + scale.square() - 1 - 2 * scale.log()).sum(-1)
        reconstruction = self.log_likelihood(z, x)
        return (reconstruction if k == 1 else reconstruction.mean(0)), kl

    def _gaussian_fast_path(self) -> bool:
        return isinstance(self.encoder, GaussianEncoder) and isinstance(self.prior, StandardNormalPrior)

    def negative_elbo(self, x: torch.Tensor, num_particles: int | None = None) -> torch.Tensor:
        """-ELBO per example [B] in nats (beta = 1, no free bits): an upper bound on -log p(x)."""
        reconstruction, kl = self.elbo_terms(x, num_particles)
        return kl - reconstruction

    def negative_iwae_bound(self, x: torch.Tensor, num_particles: int | None = None) -> torch.Tensor:
        """-L_K per example [B] (K = num_particles), vectorised over the K samples.

        Pyro's ``RenyiELBO(alpha=0)`` sums log-weights only over plates that are not shared by every
        site, so for this model (every site in the data plate) it also forms one weight per example
        and agrees with this bound; a model with a global latent site outside the plate would get
        one weight per particle for the whole batch, a bound on log p(x_1..x_B) that loosens towards
        the ELBO as B grows. This version is a few lines of tensor code with no trace bookkeeping.
        """
        k = num_particles or self.num_particles
        log_w = log_importance_weights(self, x, k, kl_scale=self._kl_scale())
        return -(torch.logsumexp(log_w, 0) - math.log(k))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """The training loss: the mean over the batch of the per-example negative objective.

        For "elbo": -E_q[log p(x|z)] + beta * w * KL with w the warm-up weight, and the free-bits
        floor on the KL when ``free_bits > 0``. For "iwae": -L_K with log p(z) - log q(z) weighted
        by beta * w inside the importance weights (= -L_K when beta * w = 1).
        """
        if self.objective == "iwae":
            return self.negative_iwae_bound(x).mean()
        if self.free_bits > 0:
            return self._free_bits_loss(x)
        reconstruction, kl = self.elbo_terms(x)
        return (self._kl_scale() * kl - reconstruction).mean()

    def _free_bits_loss(self, x: torch.Tensor) -> torch.Tensor:
        q = self.encode(x)
        z = q.rsample(torch.Size([self.num_particles]))
        reconstruction = self.log_likelihood(z, x).mean(0)
        per_dim = kl_per_dimension(q, self.prior_distribution())
        if per_dim is not None:
            kl = per_dim.mean(0).clamp(min=self.free_bits).sum()
        else:
            kl = self.kl_to_prior(q, z).mean().clamp(min=self.free_bits * self.latent_dim)
        return self._kl_scale() * kl - reconstruction.mean()

    # ------------------------------------------------------------------ Pyro model / guide
    def _z_scale(self) -> contextlib.AbstractContextManager:
        scale = self._kl_scale()
        return contextlib.nullcontext() if scale == 1.0 else pyro.poutine.scale(scale=scale)

    def model(self, x: torch.Tensor) -> None:
        """The generative model: z ~ p(z), x ~ p(x|z), inside ``pyro.plate("data", B)``."""
        self.check_data(x)
        prior = self.prior_distribution()
        with pyro.plate("data", x.shape[0]):
            with self._z_scale():
                z = pyro.sample("z", prior.expand([x.shape[0]]))
            pyro.sample("x", self.decoder(z), obs=x)

    def guide(self, x: torch.Tensor) -> None:
        """The inference model: z ~ q(z|x), inside ``pyro.plate("data", B)``."""
        self.check_data(x)
        with pyro.plate("data", x.shape[0]), self._z_scale():
            pyro.sample("z", self.encoder(x))

    # ------------------------------------------------------------------ using a trained model
    def _mean_or_sample(self, d: torch.distributions.Distribution, mean: bool) -> torch.Tensor:
        return d.mean if mean else d.sample()

    @torch.no_grad()
    def reconstruct(
        self,
        x: torch.Tensor,
        mean: bool = True,
        seed: int | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """x' from p(x|z) at the posterior mean of z (``mean=True``, the default: the decoder's mean; else z and x' are
        sampled). ``seed`` or ``generator`` fixes the draws and leaves torch's global generator as it was."""
        with seeded_rng(seed_from(seed, generator)):
            q = self.encode(x)
            z = q.mean if mean else q.sample()
            return self._mean_or_sample(self.decoder(z), mean)

    @torch.no_grad()
    @sample_call_forms("mean", "seed")
    def sample(
        self,
        num_samples: int,
        *,
        mean: bool = True,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """num_samples draws z ~ p(z), decoded: by default the decoder means E[x | z] (``mean=True``; smooth images),
        or draws x ~ p(x | z) with ``mean=False``; [num_samples, *data_shape].

        ``seed`` or ``generator`` fixes the draws (torch's global generator is forked and restored); with neither, the
        draws are fresh.
        """
        check_positive_int(num_samples, "num_samples")
        with seeded_rng(seed_from(seed, generator)):
            z = self.prior_distribution().sample(torch.Size([num_samples]))
            return self._mean_or_sample(self.decoder(z), mean)

    @torch.no_grad()
    def interpolate(self, x1: torch.Tensor, x2: torch.Tensor, steps: int = 8) -> torch.Tensor:
        """Decoder means along the straight line between the posterior means of x1 and x2: [steps, *data_shape]."""
        check_positive_int(steps, "steps", minimum=2)
        pair = (
            torch.stack([x1.reshape(self.data_shape), x2.reshape(self.data_shape)])
            if x1.dim() == len(self.data_shape)
            else torch.cat([x1, x2])
        )
        if pair.shape[0] != 2:
            raise InputError(f"x1 and x2 must each be one example of shape {list(self.data_shape)}")
        z = self.encode(pair).mean
        t = torch.linspace(0, 1, steps, device=z.device, dtype=z.dtype).unsqueeze(-1)
        return self.decoder((1 - t) * z[0] + t * z[1]).mean
