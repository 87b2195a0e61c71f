"""Heads with a softmax over K values per dimension: class labels (``"categorical"``) and integer levels (``"levels"``)."""

from __future__ import annotations

import pyro.distributions as dist
import torch
import torch.nn.functional as F

from ...io import serializable
from ...validation import check_labels, check_levels, check_positive_int
from .base import Head


def gumbel_argmax(logits: torch.Tensor, dim: int, generator: torch.Generator) -> torch.Tensor:
    """A categorical draw along ``dim`` by the Gumbel-max trick, using only ``generator``.

    Arguments:
        logits: unnormalised log-probabilities.
        dim: the axis of the K values.
        generator: the random-number generator.

    Returns:
        The drawn indices (int64), ``logits``'s shape without ``dim``.

    Example:
        >>> gumbel_argmax(torch.tensor([[0.0, 50.0, 0.0]]), 1, torch.Generator().manual_seed(0))
        tensor([1])
    """
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    gumbel = -torch.log((-torch.log(u.clamp(min=1e-20))).clamp(min=1e-20))
    return (logits + gumbel).argmax(dim)


class _SoftmaxHead(Head):
    """A softmax over ``num_params`` values on the parameter axis; subclasses say what the values mean."""

    def log_prob_elements(self, params: torch.Tensor, y: torch.Tensor, event_ndim: int) -> torch.Tensor:
        # one fused log-softmax + gather (cross-entropy); its input wants the K values on dim 1
        axis = params.dim() - event_ndim - 1
        lead, event = params.shape[:axis], params.shape[axis + 1 :]
        target = y.long()
        if target.shape != (*lead, *event):
            target = target.expand(*lead, *event)
        if axis != 1:
            params, target = params.reshape(-1, *params.shape[axis:]), target.reshape(-1, *event)
        return -F.cross_entropy(params, target, reduction="none").reshape(*lead, *event)

    def sample(self, params: torch.Tensor, event_ndim: int, generator: torch.Generator) -> torch.Tensor:
        return gumbel_argmax(params, -event_ndim - 1, generator).to(params.dtype)


@serializable(name="CategoricalLikelihood")  # the key of the classifier head in existing files
class CategoricalHead(_SoftmaxHead):
    """p(y | f) = Categorical(softmax(f)) over C classes; y are integer class labels in [0, C-1].

    Arguments:
        num_classes: C >= 2, the number of classes (and of network outputs per target).

    Example:
        >>> head = CategoricalHead(3)
        >>> round(head.nll(torch.zeros(1, 3), torch.tensor([2])).item(), 4)
        1.0986
        >>> head.num_params, head.kind
        (3, 'classification')

    References:
        Bishop (2006), Pattern Recognition and Machine Learning, section 4.3.4 (multiclass logistic regression).
    """

    kind = "classification"

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_params = check_positive_int(num_classes, "num_classes", minimum=2)

    @property
    def num_classes(self) -> int:
        """C, the number of classes."""
        return self.num_params

    def check(self, y: torch.Tensor, name: str = "y") -> torch.Tensor:
        check_labels(y, name, None, self.num_params)
        return y

    def base_distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        return dist.Categorical(logits=params.movedim(-event_ndim - 1, -1), validate_args=False)

    def probs(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities [B, C] from logits [B, C] (softmax over the last axis).

        Arguments:
            outputs: logits [B, C].
        """
        return outputs.softmax(-1)


class _LevelsCategorical(dist.Categorical):
    """A categorical over the levels 0..K-1 whose ``mean`` is the expected level (torch returns NaN)."""

    @property
    def mean(self) -> torch.Tensor:
        levels = torch.arange(self.probs.shape[-1], device=self.probs.device, dtype=self.probs.dtype)
        return (self.probs * levels).sum(-1)

    @property
    def variance(self) -> torch.Tensor:
        levels = torch.arange(self.probs.shape[-1], device=self.probs.device, dtype=self.probs.dtype)
        return (self.probs * levels**2).sum(-1) - self.mean**2


class IntegerLevels(Head):
    """Shared part of the heads of integer levels 0..L-1: the level check, and the network reads the levels
    rescaled to [-1, 1]. A subclass sets ``num_levels``."""

    num_levels: int

    def check(self, y: torch.Tensor, name: str = "y") -> torch.Tensor:
        return check_levels(y, name, self.num_levels)

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        return y.float() * (2.0 / (self.num_levels - 1)) - 1.0


@serializable(name="VAECategoricalLikelihood")  # the key files written by the VAE decoders store
class LevelsHead(IntegerLevels, _SoftmaxHead):
    """p(x) = prod_d Categorical(x_d; softmax(l_d)) over the integer levels 0..L-1 of each dimension.

    Unordered levels of an intensity (L = 256 for 8-bit images), not class labels: the data may be an integer
    tensor or a float tensor holding integers, and the network reads them rescaled to [-1, 1] (:meth:`encode`).

    Arguments:
        num_levels: L >= 2, the number of levels (and of network outputs per dimension).

    Example:
        >>> head = LevelsHead(4)
        >>> head.log_prob_elements(torch.zeros(1, 4, 1), torch.tensor([[3.0]]), 1).exp()
        tensor([[0.2500]])
        >>> head.encode(torch.tensor([[0.0, 3.0]]))
        tensor([[-1.,  1.]])
        >>> head.distribution(torch.zeros(1, 4, 2), 1).mean  # the expected level
        tensor([[1.5000, 1.5000]])

    References:
        van den Oord, Kalchbrenner & Kavukcuoglu (2016), Pixel Recurrent Neural Networks, arXiv:1601.06759.
    """

    def __init__(self, num_levels: int = 256) -> None:
        super().__init__()
        self.num_levels = check_positive_int(num_levels, "num_levels", minimum=2)
        self.num_params = self.num_levels

    def base_distribution(self, params: torch.Tensor, event_ndim: int) -> dist.TorchDistribution:
        return _LevelsCategorical(logits=params.movedim(-event_ndim - 1, -1), validate_args=False)
