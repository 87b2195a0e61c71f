"""Exact Gaussian-process regression with hyperparameters fitted by the marginal likelihood.

Model: f ~ GP(m, s^2 k_l), y_i = f(x_i) + eps_i, eps_i ~ N(0, sigma^2), with a constant mean m and
an RBF or Matérn kernel with ARD lengthscales l. The hyperparameters (m, s, l, sigma) maximise the
log marginal likelihood log N(y | m 1, K + sigma^2 I); predictions use the closed-form posterior
f(x*) | y ~ N(m + k*^T (K + sigma^2 I)^{-1} (y - m), k** - k*^T (K + sigma^2 I)^{-1} k*). All of
this algebra is GPyTorch's.
"""

from __future__ import annotations

import gpytorch
import torch

from ...errors import InputError
from ...io import serializable
from ...randomness import make_generator
from ...results.function_draws import FunctionDraws
from ...results.predictive import RegressionPrediction
from ...validation import check_positive_int, check_tensor
from .kernels import make_kernel

CHOLESKY_LIMIT = 20_000
"""Matrices up to this size are factorised by Cholesky. GPyTorch's default switches to conjugate gradients
and stochastic Lanczos log-determinants above 800 points, which would make the "exact" GP approximate."""


class _ExactGPCore(gpytorch.models.ExactGP):
    """The GPyTorch model: constant mean and a scaled (ARD) kernel."""

    def __init__(
        self,
        train_x: torch.Tensor,
        train_y: torch.Tensor,
        likelihood: gpytorch.likelihoods.GaussianLikelihood,
        kernel: gpytorch.kernels.Kernel,
    ) -> None:
        super().__init__(train_x, train_y, likelihood)
        self.mean_module = gpytorch.means.ConstantMean()
        self.covar_module = kernel

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


@serializable
class ExactGPRegression(torch.nn.Module):
    """Exact GP regression on a stored training set, fitted by the shared trainer (full batch).

    The training data are buffers ``train_x`` [N, D] and ``train_y`` [N], so that they follow
    ``.to(device)`` and are saved with the model; build the model with :meth:`from_data` (or the
    constructor followed by :meth:`set_train_data`). ``loss(x, y)`` is the negative log marginal
    likelihood per example, -log N(y | m, K + sigma^2 I) / N, in nats. An exact GP couples all
    points, so it is trained full-batch: use ``Trainer(..., batch_size >= N)``; a smaller batch
    raises an InputError. The data a trainer fits become the stored training data (a fit on data of
    another size than ``num_train`` is refused), so predictions always condition on the data the
    hyperparameters were fitted to.

    Arguments:
        num_inputs: D, the input width.
        num_train: N, the number of training points stored in the buffers.
        kernel: "rbf", "matern12", "matern32" or "matern52".
        ard: one lengthscale per input dimension.

    Example:
        >>> from bayesdl.inference import Trainer
        >>> x = torch.linspace(-2, 2, 20).unsqueeze(1); y = torch.sin(2 * x[:, 0])
        >>> gp = ExactGPRegression.from_data(x, y, kernel="rbf")
        >>> _ = Trainer(gp, lr=0.1, epochs=30, batch_size=20, progress=False).fit((x, y))
        >>> pred = gp.predict(torch.zeros(1, 1))
        >>> abs(pred.mean.item()) < 0.1
        True

    References:
        Rasmussen & Williams (2006), Gaussian Processes for Machine Learning, chapters 2 and 5;
        Gardner et al. (2018), GPyTorch, arXiv:1809.11165.
    """

    def __init__(self, num_inputs: int, num_train: int, kernel: str = "rbf", ard: bool = True) -> None:
        super().__init__()
        self.num_inputs = check_positive_int(num_inputs, "num_inputs")
        self.num_train = check_positive_int(num_train, "num_train")
        self.kernel = kernel
        self.register_buffer("train_x", torch.zeros(num_train, num_inputs))
        self.register_buffer("train_y", torch.zeros(num_train))
        self.gp = _ExactGPCore(
            self.train_x,
            self.train_y,
            gpytorch.likelihoods.GaussianLikelihood(),
            make_kernel(kernel, num_inputs, ard),
        )

    @property
    def likelihood(self) -> gpytorch.likelihoods.GaussianLikelihood:
        """The Gaussian likelihood, whose ``noise`` is sigma^2."""
        return self.gp.likelihood

    @classmethod
    def from_data(
        cls, x: torch.Tensor, y: torch.Tensor, kernel: str = "rbf", ard: bool = True
    ) -> ExactGPRegression:
        """Build a model for the training set ``(x [N, D], y [N])`` and store the data in it.

        Arguments:
            x: training inputs [N, D] (float).
            y: training targets [N] (float).
            kernel: "rbf", "matern12", "matern32" or "matern52".
            ard: one lengthscale per input dimension.

        Returns:
            The model, with ``num_inputs = D`` and ``num_train = N``.
        """
        check_tensor(x, "x", ndim=2, floating=True)
        model = cls(num_inputs=x.shape[1], num_train=x.shape[0], kernel=kernel, ard=ard)
        return model.set_train_data(x, y)

    def _check_xy(self, x: torch.Tensor, y: torch.Tensor) -> None:
        check_tensor(x, "x", shape=[None, self.num_inputs], floating=True)
        check_tensor(y, "y", shape=[x.shape[0]], floating=True)

    def _holds_up_to_order(self, x: torch.Tensor, y: torch.Tensor) -> bool:
        """Whether the stored data equal (x, y) up to the order of the rows (each column's sorted values agree)."""
        if torch.equal(x, self.train_x) and torch.equal(y, self.train_y):
            return True
        return torch.equal(y.sort().values, self.train_y.sort().values) and torch.equal(
            x.sort(0).values, self.train_x.sort(0).values
        )

    def set_train_data(self, x: torch.Tensor, y: torch.Tensor) -> ExactGPRegression:
        """Copy a training set of exactly ``num_train`` points into the buffers; returns self.

        Arguments:
            x: training inputs [num_train, num_inputs].
            y: training targets [num_train].

        Returns:
            The model itself.
        """
        self._check_xy(x, y)
        if x.shape[0] != self.num_train:
            raise InputError(f"x must have num_train={self.num_train} rows, got {x.shape[0]}")
        with torch.no_grad():
            self.train_x.copy_(x)
            self.train_y.copy_(y)
        return self

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        """The posterior of the latent function f at ``x`` given the stored training data.

        Arguments:
            x: test inputs [B, D].

        Returns:
            A GPyTorch MultivariateNormal over f(x), [B].
        """
        check_tensor(x, "x", shape=[None, self.num_inputs], floating=True)
        # Point GPyTorch at the current buffers (they may have been moved or reloaded); this also
        # drops its cached factorisation, which may belong to older hyperparameters.
        self.gp.set_train_data(self.train_x, self.train_y, strict=False)
        self.gp.eval()
        # debug(False): predicting at the training inputs is legitimate here
        with gpytorch.settings.debug(False), gpytorch.settings.max_cholesky_size(CHOLESKY_LIMIT):
            return self.gp(x)

    def loss(self, x: torch.Tensor, y: torch.Tensor, num_data: int | None = None) -> torch.Tensor:
        """Negative log marginal likelihood of ``(x, y)`` per example, in nats (GPyTorch's exact MLL).

        Arguments:
            x: inputs [N, D]; when training, the whole training set.
            y: targets [N].
            num_data: the training-set size passed by the trainer; it must equal the batch size,
                since an exact GP is trained full-batch.

        Returns:
            A scalar tensor: -log p(y | x) / N in nats per example.
        """
        self._check_xy(x, y)
        if self.training and num_data is not None:
            if x.shape[0] != num_data:
                raise InputError(
                    f"an exact GP is trained full-batch: got a batch of {x.shape[0]} of {num_data} points; "
                    f"use Trainer(..., batch_size={num_data}) or larger"
                )
            if x.shape[0] != self.num_train:
                raise InputError(
                    f"this ExactGPRegression stores num_train={self.num_train} training points, but is being fitted to "
                    f"{x.shape[0]}; build it with ExactGPRegression.from_data(x, y) on the data you fit"
                )
            # Training on (x, y) makes them the data the posterior conditions on, so predictions always use
            # the data the hyperparameters were fitted to. The trainer shuffles the rows of its full batch,
            # which changes nothing for a GP: the stored order is kept when only the order differs.
            if not self._holds_up_to_order(x, y):
                with torch.no_grad():
                    self.train_x.copy_(x)
                    self.train_y.copy_(y)
        prior = self.gp.forward(x)  # the GP prior at x: the marginal likelihood needs no conditioning
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(self.likelihood, self.gp)
        with gpytorch.settings.max_cholesky_size(CHOLESKY_LIMIT):
            return -mll(prior, y)  # GPyTorch's exact MLL is already divided by N

    def predict(self, x: torch.Tensor, num_samples: int = 1) -> RegressionPrediction:
        """Closed-form posterior predictive: mean, epistemic = Var[f(x)], aleatoric = sigma^2.

        ``num_samples`` is accepted for the shared :func:`bayesdl.inference.predictive.predict`
        API and ignored: the moments are exact.

        Arguments:
            x: test inputs [B, D].
            num_samples: ignored.

        Returns:
            A :class:`~bayesdl.inference.predictive.RegressionPrediction` over B inputs.
        """
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad(), gpytorch.settings.max_cholesky_size(CHOLESKY_LIMIT):
                f = self(x)
                mean, var = f.mean, f.variance
                noise = self.likelihood.noise.reshape(()).expand_as(mean)
        finally:
            self.train(was_training)
        return RegressionPrediction(mean=mean, epistemic=var, aleatoric=noise.clone())

    def predictive_draws(
        self,
        x: torch.Tensor,
        num_samples: int = 100,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> FunctionDraws:
        """One chain of S draws of the latent f(x_i) from the exact posterior marginals, with the noise variance.

        Arguments:
            x: test inputs [B, D].
            num_samples: S.
            seed, generator: fix the draws (neither draws from the global generator).
        """
        check_positive_int(num_samples, "num_samples")
        pred = self.predict(x)
        return FunctionDraws.from_gaussian_marginals(
            pred,
            num_samples,
            "exact_gp",
            generator=make_generator(seed, generator, pred.mean.device),
            note="f(x_i) from the exact GP posterior marginal per draw",
        )
