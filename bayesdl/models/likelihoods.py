"""Likelihood heads that turn a network's raw outputs into a predictive distribution and a per-example NLL.

* :class:`CategoricalLikelihood`: the outputs are logits of p(y|x) = Categorical(softmax(f(x))).
* :class:`HeteroscedasticGaussian`: two outputs, a mean and a log-variance, p(y|x) = N(mu(x), exp(s(x)))
  (Kendall & Gal 2017, arXiv:1703.04977, eq. 8). The NLL 0.5 [s + (y - mu)^2 exp(-s) + log 2 pi] is written
  in terms of s, so it never forms exp(s) or divides by a variance that could underflow to zero.
* :class:`HomoscedasticGaussian`: one output, the mean, with one noise scale for all inputs, learned
  (stored as a log-sd) or fixed (e.g. the inverse model precision 1/tau of MC dropout).

Each head returns negative log-likelihoods in nats per example, shape [B], and validates targets: class
labels must be integers in [0, C-1], regression targets finite floats of shape [B].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..io import serializable
from ..validation import check_choice, check_tensor, is_checked

_LOG_2PI = math.log(2.0 * math.pi)
LIKELIHOODS = ("categorical", "heteroscedastic", "homoscedastic")


def gaussian_nll_from_log_var(mean: torch.Tensor, log_var: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Elementwise -log N(y | mean, exp(log_var)) = 0.5 [log_var + (y - mean)^2 exp(-log_var) + log 2 pi].

    Written in terms of the log-variance, so it never divides by a variance that could underflow to zero.

    Arguments:
        mean: predictive means, any shape.
        log_var: log noise variances, broadcastable to ``mean``.
        y: targets, broadcastable to ``mean``.

    Returns:
        The NLL in nats per element, of the broadcast shape.

    Example:
        >>> round(gaussian_nll_from_log_var(torch.zeros(1), torch.zeros(1), torch.zeros(1)).item(), 4)
        0.9189

    References:
        Nix & Weigend (1994), Estimating the mean and variance of the target probability distribution, ICNN;
        Kendall & Gal (2017), arXiv:1703.04977, eq. 8.
    """
    return 0.5 * (log_var + (y - mean).square() * torch.exp(-log_var) + _LOG_2PI)


class Likelihood(nn.Module):
    """Base class: ``nll(outputs, y) -> [B]``, and ``kind`` is "classification" or "regression".

    Attributes:
        kind: "classification" or "regression".
        num_outputs: the number of network outputs the head reads per example.

    Example:
        >>> head = make_likelihood("categorical", 4)
        >>> isinstance(head, Likelihood), head.kind, head.num_outputs
        (True, 'classification', 4)
    """

    kind: str
    num_outputs: int

    def nll(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The negative log-likelihood of each example.

        Arguments:
            outputs: raw network outputs [B, num_outputs].
            y: targets [B] (class labels or real values).

        Returns:
            NLL in nats per example, shape [B].
        """
        raise NotImplementedError

    def check_outputs(self, outputs: torch.Tensor) -> None:
        """Raise InputError unless ``outputs`` has shape [B, num_outputs].

        Arguments:
            outputs: raw network outputs.
        """
        if outputs.dim() != 2 or outputs.shape[1] != self.num_outputs:
            raise InputError(f"{type(self).__name__} needs network outputs [B, {self.num_outputs}], got {list(outputs.shape)}")


@serializable
class CategoricalLikelihood(Likelihood):
    """p(y|x) = Categorical(softmax(logits)); targets are integer labels in [0, C-1].

    Arguments:
        num_classes: C >= 2, the number of classes (and of network outputs).

    Example:
        >>> lik = CategoricalLikelihood(3)
        >>> round(lik.nll(torch.zeros(1, 3), torch.tensor([2])).item(), 4)
        1.0986

    References:
        Bishop (2006), Pattern Recognition and Machine Learning, section 4.3.4 (multiclass logistic regression).
    """

    kind = "classification"

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise InputError(f"a categorical likelihood needs at least 2 classes, got {num_classes}")
        self.num_outputs = int(num_classes)

    def check_target(self, y: torch.Tensor) -> None:
        """Raise InputError unless ``y`` holds integer labels [B] in [0, C-1].

        Arguments:
            y: the targets.
        """
        if is_checked(y):  # a training batch the trainer validated at the start of fit
            return
        check_tensor(y, "y", ndim=1)
        if y.is_floating_point() or int(y.min()) < 0 or int(y.max()) >= self.num_outputs:
            raise InputError(f"y must hold integer class labels in [0, {self.num_outputs - 1}], "
                             f"got dtype {y.dtype} with values in [{y.min().item()}, {y.max().item()}]")

    def nll(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.check_outputs(outputs)
        self.check_target(y)
        return F.cross_entropy(outputs, y, reduction="none")

    def probs(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities [B, C].

        Arguments:
            outputs: logits [B, C].

        Returns:
            softmax(outputs), [B, C].
        """
        return outputs.softmax(-1)


class _GaussianLikelihood(Likelihood):
    kind = "regression"

    def check_target(self, y: torch.Tensor) -> None:
        if is_checked(y):
            return
        check_tensor(y, "y", ndim=1, floating=True)

    def nll(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.check_outputs(outputs)
        self.check_target(y)
        if len(y) != len(outputs):
            raise InputError(f"y has {len(y)} entries but the batch has {len(outputs)}")
        mean, log_var = self.mean_log_var(outputs)
        return gaussian_nll_from_log_var(mean, log_var, y)

    def mean_log_var(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The predictive mean [B] and log noise variance [B] read from the network outputs.

        Arguments:
            outputs: raw network outputs [B, num_outputs].

        Returns:
            ``(mean, log_var)``, each [B].
        """
        raise NotImplementedError

    def mean_var(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The predictive mean [B] and noise variance [B].

        Arguments:
            outputs: raw network outputs [B, num_outputs].

        Returns:
            ``(mean, variance)``, each [B].
        """
        mean, log_var = self.mean_log_var(outputs)
        return mean, log_var.exp()


@serializable
class HeteroscedasticGaussian(_GaussianLikelihood):
    """p(y|x) = N(mu(x), exp(s(x))) from two network outputs (mean, log-variance).

    Example:
        >>> lik = HeteroscedasticGaussian()
        >>> mean, var = lik.mean_var(torch.tensor([[1.0, 0.0]]))
        >>> mean.item(), var.item()
        (1.0, 1.0)

    References:
        Nix & Weigend (1994), Estimating the mean and variance of the target probability distribution;
        Kendall & Gal (2017), What uncertainties do we need in Bayesian deep learning?, arXiv:1703.04977.
    """

    num_outputs = 2

    def __init__(self) -> None:
        super().__init__()

    def mean_log_var(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return outputs[:, 0], outputs[:, 1]


@serializable
class HomoscedasticGaussian(_GaussianLikelihood):
    """p(y|x) = N(mu(x), sigma^2) with one noise sd for all inputs, learned (default) or fixed.

    Arguments:
        noise_std: the initial (or fixed) noise standard deviation sigma.
        learnable: learn log sigma jointly with the network.

    Example:
        >>> lik = HomoscedasticGaussian(0.5, learnable=False)
        >>> lik.noise_std.item(), lik.mean_var(torch.tensor([[2.0]]))[1].item()
        (0.5, 0.25)

    References:
        Gal & Ghahramani (2016), Dropout as a Bayesian Approximation, arXiv:1506.02142 (a fixed noise
        1/tau from the model precision).
    """

    num_outputs = 1

    def __init__(self, noise_std: float = 1.0, learnable: bool = True) -> None:
        super().__init__()
        if not noise_std > 0:
            raise InputError(f"noise_std must be positive, got {noise_std}")
        value = torch.tensor(math.log(noise_std), dtype=torch.float32)
        if learnable:
            self.log_noise_std = nn.Parameter(value)
        else:
            self.register_buffer("log_noise_std", value)

    @property
    def noise_std(self) -> torch.Tensor:
        """The current noise standard deviation."""
        return self.log_noise_std.exp()

    def mean_log_var(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = outputs[:, 0]
        return mean, (2.0 * self.log_noise_std).expand_as(mean)


def make_likelihood(name: str, num_outputs: int, noise_std: float = 1.0, learn_noise: bool = True) -> Likelihood:
    """Build a likelihood head by name, checking that the network has the right number of outputs.

    Arguments:
        name: "categorical", "heteroscedastic" or "homoscedastic".
        num_outputs: the width of the network's output layer (C for categorical, 2 for heteroscedastic,
            1 for homoscedastic); a mismatch raises InputError.
        noise_std: the initial (or fixed) noise sd of the homoscedastic head.
        learn_noise: learn the homoscedastic noise sd.

    Returns:
        A :class:`Likelihood` head.

    Example:
        >>> type(make_likelihood("heteroscedastic", 2)).__name__
        'HeteroscedasticGaussian'
    """
    check_choice(name, "likelihood", LIKELIHOODS)
    if name == "categorical":
        return CategoricalLikelihood(num_outputs)
    head: Likelihood = HeteroscedasticGaussian() if name == "heteroscedastic" else HomoscedasticGaussian(noise_std, learn_noise)
    if num_outputs != head.num_outputs:
        raise InputError(f"a {name} likelihood needs a network with {head.num_outputs} output(s), got {num_outputs}")
    return head
