"""The sparse variational GP core shared by :class:`SparseVariationalGP` and :class:`DeepKernelGP`.

With M inducing inputs Z and inducing values u = f(Z), the approximate posterior is
q(f) = int p(f | u) q(u) du with q(u) = N(m, S) (Cholesky-parameterised), and the training objective
is the variational ELBO of Hensman, Matthews & Ghahramani (2015):

    L = sum_i E_q(f_i)[log p(y_i | f_i)] - KL(q(u) || p(u)),

estimated on a minibatch of B points as (N/B) sum_{i in batch} E[log p(y_i|f_i)] - KL. This module
reports -L / N, nats per training example, so that the KL is charged once per pass over the data.
The ELBO, the whitened variational strategy and the likelihood expectations are GPyTorch's.
"""

from __future__ import annotations

import gpytorch
import torch

from ...errors import InputError
from ...randomness import make_generator
from ...results.function_draws import FunctionDraws
from ...results.predictive import CategoricalDraws, ClassificationPrediction, RegressionPrediction
from ...validation import check_positive_int
from .kernels import Kernel, make_kernel
from .likelihoods import GPLikelihood, check_targets, likelihood_name, make_likelihood, num_latent_functions

CHOLESKY_MAX_TRIES = 6


class _SVGPCore(gpytorch.models.ApproximateGP):
    """One latent GP (or C independent ones sharing the inducing inputs) with a whitened variational strategy."""

    def __init__(
        self, inducing_points: torch.Tensor, num_latents: int, kernel: str, ard: bool, learn_inducing: bool
    ) -> None:
        batch = torch.Size([num_latents]) if num_latents > 1 else torch.Size([])
        num_inducing, num_features = inducing_points.shape
        distribution = gpytorch.variational.CholeskyVariationalDistribution(num_inducing, batch_shape=batch)
        strategy: gpytorch.variational._VariationalStrategy = gpytorch.variational.VariationalStrategy(
            self, inducing_points, distribution, learn_inducing_locations=learn_inducing
        )
        if num_latents > 1:
            strategy = gpytorch.variational.IndependentMultitaskVariationalStrategy(
                strategy, num_tasks=num_latents
            )
        super().__init__(strategy)
        self.mean_module = gpytorch.means.ConstantMean(batch_shape=batch)
        self.covar_module = make_kernel(kernel, num_features, ard, batch)

    @property
    def base_strategy(self) -> gpytorch.variational.VariationalStrategy:
        strategy = self.variational_strategy
        return getattr(strategy, "base_variational_strategy", strategy)

    def forward(self, z: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        return gpytorch.distributions.MultivariateNormal(self.mean_module(z), self.covar_module(z))


class VariationalGP(torch.nn.Module):
    """A sparse variational GP on features g(x): the base of the SVGP (g = identity) and of deep kernel learning.

    Subclasses define :meth:`features` (the map g from inputs to the GP's input space) and
    :meth:`check_inputs`. Everything else (the ELBO loss, inducing-point initialisation and the
    shared prediction API) lives here.

    Arguments:
        num_features: F, the width of g(x), the input of the GP.
        num_inducing: M, the number of inducing points.
        likelihood: "gaussian" (regression), "probit" (binary: Bernoulli with the probit link) or "softmax"
            (multi-class); "bernoulli" is the deprecated name of "probit".
        num_classes: C for the softmax likelihood (one latent GP per class); ignored otherwise.
        kernel: "rbf", "matern12", "matern32" or "matern52".
        ard: one lengthscale per feature dimension.
        learn_inducing: optimise the inducing inputs Z jointly with everything else.

    Example:
        A minimal subclass on two raw features (what :class:`SparseVariationalGP` does, without training):

        >>> class OnRawInputs(VariationalGP):
        ...     def features(self, x):
        ...         return x
        ...     def check_inputs(self, x, name="x"):
        ...         return x
        >>> _ = torch.manual_seed(0)
        >>> x = torch.linspace(-1, 1, 16).reshape(8, 2)
        >>> gp = OnRawInputs(num_features=2, num_inducing=4, likelihood="probit").initialize_inducing_points(x)
        >>> loss = gp.loss(x, (x[:, 0] > 0).float(), num_data=8)
        >>> loss.shape, bool(loss > 0), gp.predict(x[:3], num_samples=5, seed=0).probs.shape
        (torch.Size([]), True, torch.Size([3, 2]))

    References:
        Hensman, Fusi & Lawrence (2013), Gaussian processes for big data, arXiv:1309.6835;
        Hensman, Matthews & Ghahramani (2015), Scalable variational GP classification, arXiv:1411.2005.
    """

    #: the method's name in ArviZ exports
    method_name = "variational_gp"

    def __init__(
        self,
        num_features: int,
        num_inducing: int,
        likelihood: GPLikelihood = "gaussian",
        num_classes: int | None = None,
        kernel: Kernel = "rbf",
        ard: bool = True,
        learn_inducing: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.num_inducing = check_positive_int(num_inducing, "num_inducing")
        self.likelihood_name = likelihood = likelihood_name(likelihood)
        if likelihood == "softmax":
            num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        self.num_classes = num_classes if likelihood == "softmax" else (2 if likelihood == "probit" else None)
        self.num_latents = num_latent_functions(self.likelihood_name, num_classes)
        self.gp = _SVGPCore(
            torch.randn(num_inducing, num_features), self.num_latents, kernel, ard, learn_inducing
        )
        self.likelihood = make_likelihood(self.likelihood_name, num_classes)

    # ------------------------------------------------------------------ to be provided by subclasses
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """g(x) [B, F], the input of the GP.

        Arguments:
            x: an input batch [B, ...].

        Returns:
            The features [B, F].
        """
        raise NotImplementedError

    def check_inputs(self, x: object, name: str = "x") -> torch.Tensor:
        """Raise an InputError unless ``x`` is a valid input batch.

        Arguments:
            x: the value to check.
            name: the argument name used in the error message.

        Returns:
            ``x``, checked.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ shared machinery
    @property
    def inducing_points(self) -> torch.Tensor:
        """The inducing inputs Z [M, F] (in feature space)."""
        return self.gp.base_strategy.inducing_points

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        """The approximate posterior q(f(x)) of the latent function(s) at a batch ``x``.

        Arguments:
            x: an input batch [B, ...].

        Returns:
            A GPyTorch MultivariateNormal over f(x): [B] (or [B, C] latent functions for softmax).
        """
        self.check_inputs(x)
        # Inducing points may drift close together (in feature space, for DKL) while the kernel's
        # outputscale grows; then GPyTorch's fixed 1e-4 jitter is too small relative to K_uu for a
        # float32 Cholesky. Factorise the M x M matrix in float64 (cheap for M in the hundreds) and
        # let psd_safe_cholesky escalate its extra jitter further before giving up.
        with (
            gpytorch.settings.linalg_dtypes(
                default=torch.float32, symeig=torch.float64, cholesky=torch.float64
            ),
            gpytorch.settings.cholesky_max_tries(CHOLESKY_MAX_TRIES),
        ):
            return self.gp(self.features(x))

    def initialize_inducing_points(self, x: torch.Tensor, seed: int = 0) -> VariationalGP:
        """Set Z to the features of M distinct training inputs chosen at random (seeded); returns self.

        Arguments:
            x: training inputs [N, ...] with N >= M.
            seed: seeds the choice of the M points.

        Returns:
            The model itself (so that calls chain).

        Raises:
            InputError: when ``x`` has fewer than M rows.
        """
        self.check_inputs(x)
        if x.shape[0] < self.num_inducing:
            raise InputError(
                f"x has {x.shape[0]} points, too few for num_inducing={self.num_inducing} inducing points; "
                "use fewer inducing points or more data"
            )
        generator = torch.Generator()
        generator.manual_seed(seed)
        index = torch.randperm(x.shape[0], generator=generator)[: self.num_inducing].to(x.device)
        with torch.no_grad():
            self.inducing_points.copy_(self.features(x[index]))
        return self

    def loss(self, x: torch.Tensor, y: torch.Tensor, num_data: int | None = None) -> torch.Tensor:
        """The negative variational ELBO per training example (nats), from one minibatch.

        Arguments:
            x: a minibatch of inputs [B, ...].
            y: targets [B]: reals (gaussian), 0/1 (probit) or class labels (softmax).
            num_data: N, the training-set size (the trainer passes it); defaults to B.

        Returns:
            A scalar tensor: -ELBO / N in nats per training example (an upper bound on -log p(y) / N).
        """
        self.check_inputs(x)
        y = check_targets(y, self.likelihood_name, x.shape[0], self.num_classes)
        num_data = x.shape[0] if num_data is None else check_positive_int(num_data, "num_data")
        if num_data < self.num_inducing:
            raise InputError(
                f"the training set has {num_data} points, too few for num_inducing={self.num_inducing} inducing points"
            )
        elbo = gpytorch.mlls.VariationalELBO(self.likelihood, self.gp, num_data=num_data)
        return -elbo(self(x), y)  # GPyTorch's ELBO is already divided by N (KL / N + mean expected log-lik)

    def predict(
        self, x: torch.Tensor, num_samples: int = 100, seed: int | None = None
    ) -> RegressionPrediction | ClassificationPrediction:
        """The posterior predictive at ``x`` through the shared result objects.

        * gaussian: :class:`RegressionPrediction` with mean E[f], epistemic Var[f] (the latent
          variance under q) and aleatoric sigma^2 (the likelihood noise); exact, ``num_samples`` unused.
        * probit / softmax: S draws of f(x) from the marginals of q(f(x)) pushed through the
          likelihood give S probability vectors, summarised by :class:`ClassificationPrediction`
          (entropy = expected entropy + mutual information).

        Arguments:
            x: inputs [B, ...].
            num_samples: S, latent draws per input (classification).
            seed: seeds the latent draws (otherwise the global torch generator is used).

        Returns:
            A :class:`RegressionPrediction` (gaussian) or :class:`ClassificationPrediction`, each over B inputs.
        """
        check_positive_int(num_samples, "num_samples")
        mean, var, noise = self._latent_marginals(x)
        if noise is not None:
            return RegressionPrediction(mean=mean, epistemic=var, aleatoric=noise)
        return ClassificationPrediction.from_draws(
            self._class_draws(mean, var, num_samples, make_generator(seed, None, mean.device))
        )

    def _latent_marginals(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Mean and variance of q(f(x)), and the noise variance for a gaussian likelihood (else None)."""
        was_training = self.training
        self.train(True)  # entering training mode clears GPyTorch's cached factorisations,
        self.eval()  # which may belong to parameters loaded since they were computed
        try:
            with torch.no_grad():
                f = self(x)
                mean, var = f.mean, f.variance
                noise = None
                if self.likelihood_name == "gaussian":
                    noise = self.likelihood.noise.reshape(()).expand_as(mean).clone()
                return mean, var, noise
        finally:
            self.train(was_training)

    def _class_draws(
        self, mean: torch.Tensor, var: torch.Tensor, num_samples: int, generator: torch.Generator | None
    ) -> CategoricalDraws:
        """S class-probability draws from f ~ q(f(x)) marginals pushed through the likelihood."""
        with torch.no_grad():
            eps = torch.randn(
                (num_samples, *mean.shape), generator=generator, device=mean.device, dtype=mean.dtype
            )
            probs = self.likelihood(mean + var.sqrt() * eps).probs
        if self.likelihood_name == "probit":
            probs = torch.stack([1.0 - probs, probs], dim=-1)
        return CategoricalDraws(probs)

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """One chain of S draws of f(x_i) from the marginals of q(f(x)) (regression: with the noise variance;
        classification: pushed through the likelihood to class probabilities).

        Arguments:
            x: inputs [B, ...].
            num_samples: S.
            seed, generator: fix the draws (neither draws from the global generator).
        """
        check_positive_int(num_samples, "num_samples")
        # GPyTorch initialises an untrained q(u) lazily with one global-generator draw; keep it off the caller's stream
        with torch.random.fork_rng(devices=[], enabled=seed is not None or generator is not None):
            mean, var, noise = self._latent_marginals(x)
        g = make_generator(seed, generator, mean.device)
        note = "f(x_i) from the variational GP marginal q(f(x_i)) per draw"
        if noise is not None:
            return FunctionDraws.from_gaussian_marginals(
                RegressionPrediction(mean, var, noise), num_samples, self.method_name, generator=g, note=note
            )
        return FunctionDraws.from_draws(
            self._class_draws(mean, var, num_samples, g), self.method_name, note=note
        )
