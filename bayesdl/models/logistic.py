"""Bayesian multinomial logistic regression as a Pyro model.

p(W) = N(0, s^2 I), p(b) = N(0, s^2 I), p(y | x, W, b) = Categorical(softmax(x W + b)).
It is the smallest model that exercises the Pyro path end to end (PyroModule priors, an
autoguide, minibatch ELBO scaling through the trainer, posterior predictive averaging) and it is
the model of the ``svi-logistic`` experiment and of ``bayesdl demo``.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.nn import PyroModule, PyroSample

from ..io import serializable
from ..validation import check_labels, check_positive_int, check_tensor


@serializable
class BayesianLogisticRegression(PyroModule):
    """Multinomial logistic regression with Gaussian priors on the weights and biases.

    Arguments:
        num_features: D, the input width.
        num_classes: C, the number of classes.
        prior_scale: s, the prior standard deviation of every weight and bias.

    Example:
        >>> model = BayesianLogisticRegression(4, 3)
        >>> guide = pyro.infer.autoguide.AutoNormal(model)
        >>> x, y = torch.linspace(-1, 1, 20).reshape(5, 4), torch.tensor([0, 1, 2, 0, 1])
        >>> model.model(x, y).shape
        torch.Size([5, 3])
        >>> trace = pyro.poutine.trace(model).get_trace(x, y)
        >>> trace.nodes["weight"]["value"].shape, trace.nodes["y"]["is_observed"]
        (torch.Size([4, 3]), True)

    References:
        Bishop (2006), Pattern Recognition and Machine Learning, section 4.5 (Bayesian logistic regression).
    """

    def __init__(self, num_features: int, num_classes: int, prior_scale: float = 1.0) -> None:
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        self.prior_scale = float(prior_scale)
        self.register_buffer("_zero", torch.zeros(()))
        self.weight = PyroSample(
            lambda self: (
                dist.Normal(self._zero, self.prior_scale)
                .expand([self.num_features, self.num_classes])
                .to_event(2)
            )
        )
        self.bias = PyroSample(
            lambda self: dist.Normal(self._zero, self.prior_scale).expand([self.num_classes]).to_event(1)
        )

    def _check(self, x: torch.Tensor, y: torch.Tensor | None) -> None:
        check_tensor(x, "x", shape=[None, self.num_features], floating=True)
        if y is not None:
            check_labels(y, "y", x.shape[0], self.num_classes)

    def model(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The generative model; returns the class logits [B, C] for the sampled weights.

        Arguments:
            x: inputs [B, D].
            y: integer class labels [B] in {0, ..., C-1} (observed), or None to sample them.

        Returns:
            The logits x W + b, [B, C].
        """
        self._check(x, y)
        logits = x @ self.weight + self.bias
        with pyro.plate("data", x.shape[0]):
            pyro.sample("y", dist.Categorical(logits=logits), obs=y)
        return logits

    forward = model
