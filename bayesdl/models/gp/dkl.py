"""Deep kernel learning: a neural feature extractor g_w feeding a sparse variational GP, trained jointly.

The deep kernel is k_w(x, x') = k(g_w(x), g_w(x')) with a base RBF/Matérn kernel k (Wilson, Hu,
Salakhutdinov & Xing 2016a). Following the stochastic variational version (Wilson et al. 2016b), the
network weights w, the kernel hyperparameters and the variational parameters are all trained
together by minibatch gradient steps on the variational ELBO. Unlike 2016b, which places KISS-GP
grids on additive one-dimensional GPs, the GP here uses M free inducing points in feature space.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...deprecation import renamed_arguments
from ...errors import InputError
from ...io import serializable
from ...validation import check_positive_int, check_tensor
from ..nets import MLP
from .kernels import Kernel
from .likelihoods import RENAMED_LIKELIHOODS, GPLikelihood
from .variational import VariationalGP


def default_feature_extractor(num_inputs: int, hidden_sizes: Sequence[int], num_features: int) -> MLP:
    """The default DKL feature extractor: the shared ReLU :class:`~bayesdl.models.nets.MLP`
    num_inputs -> hidden_sizes... -> num_features (no dropout, no normalisation).

    Arguments:
        num_inputs: D, the input width.
        hidden_sizes: the hidden-layer widths.
        num_features: F, the feature width (the GP's input width).

    Returns:
        An :class:`~bayesdl.models.nets.MLP` mapping [B, D] to [B, F].

    Example:
        >>> default_feature_extractor(3, [8], 2)(torch.zeros(5, 3)).shape
        torch.Size([5, 2])

    References:
        Wilson, Hu, Salakhutdinov & Xing (2016), Deep kernel learning, arXiv:1511.02222.
    """
    return MLP(
        check_positive_int(num_inputs, "num_inputs"),
        list(hidden_sizes),
        check_positive_int(num_features, "num_features"),
    )


@renamed_arguments(keywords={"hidden": "hidden_sizes"}, values={"likelihood": RENAMED_LIKELIHOODS})
@serializable
class DeepKernelGP(VariationalGP):
    """Stochastic variational deep kernel learning: f ~ GP(m, k(g_w(x), g_w(x'))) with q(u) on M inducing points.

    The feature extractor g_w is any ``nn.Module`` mapping inputs [B, ...] to [B, F]; by default it
    is a ReLU MLP built from ``num_inputs`` and ``hidden_sizes`` (then the model can be saved with
    :func:`bayesdl.save`; a custom extractor must itself be ``@serializable`` for that). Call
    :meth:`initialize_inducing_points` with training inputs before training: Z starts at the
    features of M training points under the initial network.

    Arguments:
        num_features: F, the output width of the feature extractor (the GP's input width).
        num_inducing: M, the number of inducing points in feature space.
        likelihood: "gaussian", "probit" (Bernoulli with the probit link; "bernoulli" is deprecated) or "softmax".
        num_classes: C for "softmax".
        num_inputs: D, the input width of the default MLP (and the checked width of x when given).
        hidden_sizes: hidden widths of the default MLP (``hidden`` is its deprecated name).
        feature_extractor: a custom network g_w instead of the default MLP.
        kernel: the base kernel on features: "rbf", "matern12", "matern32" or "matern52".
        ard: one lengthscale per feature.
        learn_inducing: optimise the inducing inputs.

    Example:
        >>> from bayesdl.inference import Trainer
        >>> x = torch.linspace(-1, 1, 100).unsqueeze(1); y = (x[:, 0] > 0).float()
        >>> dkl = DeepKernelGP(num_features=2, num_inducing=8, num_inputs=1, hidden_sizes=[16])
        >>> _ = dkl.initialize_inducing_points(x)
        >>> _ = Trainer(dkl, lr=0.01, epochs=3, batch_size=50, progress=False).fit((x, y))
        >>> dkl.predict(x[:4]).mean.shape
        torch.Size([4])

    References:
        Wilson, Hu, Salakhutdinov & Xing (2016a), Deep kernel learning, arXiv:1511.02222;
        Wilson, Hu, Salakhutdinov & Xing (2016b), Stochastic variational deep kernel learning, arXiv:1611.00336.
    """

    #: the method's name in ArviZ exports
    method_name = "dkl"

    def __init__(
        self,
        num_features: int = 2,
        num_inducing: int = 64,
        likelihood: GPLikelihood = "gaussian",
        num_classes: int | None = None,
        num_inputs: int | None = None,
        hidden_sizes: Sequence[int] = (64, 64),
        feature_extractor: torch.nn.Module | None = None,
        kernel: Kernel = "rbf",
        ard: bool = True,
        learn_inducing: bool = True,
    ) -> None:
        super().__init__(num_features, num_inducing, likelihood, num_classes, kernel, ard, learn_inducing)
        if feature_extractor is None:
            if num_inputs is None:
                raise InputError("DeepKernelGP needs num_inputs (for the default MLP) or a feature_extractor")
            feature_extractor = default_feature_extractor(num_inputs, hidden_sizes, num_features)
        elif not isinstance(feature_extractor, torch.nn.Module):
            raise InputError(
                f"feature_extractor must be a torch.nn.Module, got {type(feature_extractor).__name__}"
            )
        self.num_inputs = None if num_inputs is None else check_positive_int(num_inputs, "num_inputs")
        self.feature_extractor = feature_extractor

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """g_w(x) [B, F].

        Arguments:
            x: an input batch [B, ...].

        Returns:
            The features [B, F]; a wrong output shape of the extractor raises InputError.
        """
        z = self.feature_extractor(x)
        if z.dim() != 2 or z.shape[1] != self.num_features:
            raise InputError(
                f"the feature extractor must return [B, {self.num_features}], got {tuple(z.shape)}"
            )
        return z

    def check_inputs(self, x: object, name: str = "x") -> torch.Tensor:
        """Require a finite, non-empty float tensor with a batch dimension (of width num_inputs when given).

        Arguments:
            x: the value to check.
            name: the argument name used in error messages.

        Returns:
            ``x``, checked.
        """
        if self.num_inputs is not None:
            return check_tensor(x, name, shape=[None, self.num_inputs], floating=True)
        check_tensor(x, name, floating=True)
        if x.dim() < 2:  # type: ignore[union-attr]
            raise InputError(
                f"{name} must have a batch dimension and at least one feature dimension, got shape {tuple(x.shape)}"
            )  # type: ignore[union-attr]
        return x  # type: ignore[return-value]
