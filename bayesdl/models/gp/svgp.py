"""The sparse variational GP (SVGP): a GP on the raw inputs with M inducing points, trained on minibatches."""

from __future__ import annotations

import torch

from ...deprecation import renamed_arguments
from ...io import serializable
from ...validation import check_tensor
from .kernels import Kernel
from .likelihoods import RENAMED_LIKELIHOODS, GPLikelihood
from .variational import VariationalGP


@renamed_arguments(values={"likelihood": RENAMED_LIKELIHOODS})
@serializable
class SparseVariationalGP(VariationalGP):
    """Sparse variational GP regression or classification on inputs x [B, D].

    q(u) = N(m, S) over the values of f at M learned inducing inputs; trained by the minibatch
    variational ELBO (see :class:`~bayesdl.models.gp.variational.VariationalGP`) through the shared
    trainer, with ``loss(x, y, num_data=N)`` returning -ELBO / N in nats. Call
    :meth:`initialize_inducing_points` with the training inputs before training.

    Arguments:
        num_inputs: D, the input width.
        num_inducing: M, the number of inducing points (at most the training-set size).
        likelihood: "gaussian", "probit" (Bernoulli with the probit link; "bernoulli" is deprecated) or "softmax".
        num_classes: C for "softmax".
        kernel: "rbf", "matern12", "matern32" or "matern52" (with ARD lengthscales when ``ard``).
        ard: one lengthscale per input dimension.
        learn_inducing: optimise the inducing inputs.

    Example:
        >>> from bayesdl.inference import Trainer
        >>> x = torch.linspace(-3, 3, 200).unsqueeze(1); y = torch.sin(x[:, 0])
        >>> gp = SparseVariationalGP(1, num_inducing=10).initialize_inducing_points(x)
        >>> _ = Trainer(gp, lr=0.05, epochs=5, batch_size=50, progress=False).fit((x, y))
        >>> pred = gp.predict(x[:3])
        >>> tuple(pred.mean.shape), bool((pred.epistemic >= 0).all())
        ((3,), True)

    References:
        Hensman, Fusi & Lawrence (2013), Gaussian processes for big data, arXiv:1309.6835;
        Hensman, Matthews & Ghahramani (2015), Scalable variational Gaussian process classification,
        arXiv:1411.2005; Titsias (2009), Variational learning of inducing variables in sparse GPs.
    """

    #: the method's name in ArviZ exports
    method_name = "svgp"

    def __init__(
        self,
        num_inputs: int,
        num_inducing: int = 64,
        likelihood: GPLikelihood = "gaussian",
        num_classes: int | None = None,
        kernel: Kernel = "rbf",
        ard: bool = True,
        learn_inducing: bool = True,
    ) -> None:
        super().__init__(num_inputs, num_inducing, likelihood, num_classes, kernel, ard, learn_inducing)
        self.num_inputs = num_inputs

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The identity: an SVGP works on the raw inputs.

        Arguments:
            x: inputs [B, D].

        Returns:
            ``x`` itself.
        """
        return x

    def check_inputs(self, x: object, name: str = "x") -> torch.Tensor:
        """Require a finite float tensor [B, D].

        Arguments:
            x: the value to check.
            name: the argument name used in error messages.

        Returns:
            ``x``, checked.
        """
        return check_tensor(x, name, shape=[None, self.num_inputs], floating=True)
