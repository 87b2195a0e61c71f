"""Standard discriminative networks: the deterministic baselines that the Bayesian methods wrap.

* :class:`MLP`: fully connected layers with activation, dropout and batch/layer norm options.
* :class:`LeNet`: a small LeNet-5-like CNN (LeCun et al. 1998) sized for any square image.
* :class:`ResidualCNN`: a small CNN of residual blocks (He et al. 2016, arXiv:1512.03385).
* :class:`RecurrentNet`: an LSTM or GRU over sequences [B, T, F] with a head on the last hidden state,
  for sequence classification or regression.

Every net records ``input_shape`` (the shape of one example, ``None`` for a free length) so that
:func:`check_input` can reject inputs of the wrong feature count with a clear message. All nets are
``@serializable``: the Bayesian wrappers store them as constructor arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..deprecation import renamed_arguments
from ..errors import InputError
from ..io import serializable
from ..validation import check_choice, check_positive_int, check_tensor, is_checked

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
}
NORMS = (None, "batch", "layer")


def _check_dropout(p: float) -> float:
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise InputError(f"dropout must lie in [0, 1), got {p}")
    return p


def check_input(net: nn.Module, x: object, name: str = "x") -> torch.Tensor:
    """Check that ``x`` is a finite batch of examples of shape ``[B, *net.input_shape]``.

    Arguments:
        net: a network with an ``input_shape`` attribute (the shape of one example, ``None`` entries for free
            sizes); without one, only a finite floating tensor is required.
        x: the value to check.
        name: the argument name used in the error message.

    Returns:
        ``x`` unchanged; a wrong shape, a non-float dtype or NaN raises :class:`bayesdl.errors.InputError`.

    Example:
        >>> check_input(MLP(3, [4], 1), torch.zeros(2, 3)).shape
        torch.Size([2, 3])
        >>> try:
        ...     check_input(MLP(3, [4], 1), torch.zeros(2, 5))
        ... except InputError as err:
        ...     print(err)
        x must have shape [*, 3], got [2, 5]
    """
    if is_checked(x):  # a training batch the trainer validated at the start of fit
        return x
    shape = getattr(net, "input_shape", None)
    if shape is None:
        return check_tensor(x, name, floating=True)
    return check_tensor(x, name, shape=[None, *shape], floating=True)


def _norm_1d(kind: str | None, width: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(width)
    if kind == "layer":
        return nn.LayerNorm(width)
    return nn.Identity()


def _norm_2d(kind: str | None, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # layer norm over (C, H, W)
    return nn.Identity()


@renamed_arguments(keywords={"hidden": "hidden_sizes"})
@serializable
class MLP(nn.Module):
    """A multilayer perceptron: [Linear -> norm -> activation -> dropout] per hidden layer, then a Linear head.

    Arguments:
        in_features: input width D.
        hidden_sizes: widths of the hidden layers (``hidden`` is its deprecated name).
        out_features: output width (classes, or 1 / 2 for homo- / heteroscedastic regression).
        activation: one of relu, tanh, gelu, elu, silu, softplus.
        dropout: dropout probability after each hidden activation (0 for none).
        norm: None, "batch" or "layer".

    Example:
        >>> MLP(4, [8, 8], 3, dropout=0.1, norm="layer")(torch.zeros(2, 4)).shape
        torch.Size([2, 3])

    References:
        Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors, Nature 323;
        Srivastava et al. (2014), Dropout, JMLR 15; Ba, Kiros & Hinton (2016), Layer Normalization,
        arXiv:1607.06450; Ioffe & Szegedy (2015), Batch Normalization, arXiv:1502.03167.
    """

    def __init__(
        self,
        in_features: int,
        hidden_sizes: Sequence[int] = (100,),
        out_features: int = 1,
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str | None = None,
    ) -> None:
        super().__init__()
        check_positive_int(in_features, "in_features")
        check_positive_int(out_features, "out_features")
        check_choice(activation, "activation", list(ACTIVATIONS))
        check_choice(norm, "norm", NORMS)
        self.input_shape = (in_features,)
        self.out_features = out_features
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden_sizes:
            check_positive_int(h, "hidden width")
            layers += [nn.Linear(width, h), _norm_1d(norm, h), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(_check_dropout(dropout)))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network outputs.

        Arguments:
            x: inputs [B, in_features].

        Returns:
            Outputs [B, out_features].
        """
        return self.layers(x)


def _flat_size(features: nn.Module, in_channels: int, image_size: int) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, in_channels, image_size, image_size)).numel())


class _ConvFeaturesHead(nn.Module):
    """Base of the image classifiers: a ``features`` trunk followed by a ``head``, set by the subclass."""

    features: nn.Module
    head: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network outputs.

        Arguments:
            x: images [B, in_channels, image_size, image_size].

        Returns:
            Outputs [B, num_outputs].
        """
        return self.head(self.features(x))


@serializable
class LeNet(_ConvFeaturesHead):
    """A LeNet-5-like CNN: two [conv 5x5 -> norm -> activation -> max-pool 2] stages and an MLP head 120-84.

    Arguments:
        in_channels: image channels C.
        image_size: H = W of the square input (28 for Fashion-MNIST, 8 for digits).
        num_outputs: outputs of the head.
        activation, dropout, norm: as in :class:`MLP` (dropout before each head layer).

    Example:
        >>> LeNet(1, 8, 10)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])

    References:
        LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document recognition.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        num_outputs: int = 10,
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str | None = None,
    ) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(image_size, "image_size", minimum=4)
        check_choice(activation, "activation", list(ACTIVATIONS))
        check_choice(norm, "norm", NORMS)
        act = ACTIVATIONS[activation]
        self.input_shape = (in_channels, image_size, image_size)
        self.out_features = num_outputs
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            _norm_2d(norm, 6),
            act(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=2),
            _norm_2d(norm, 16),
            act(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        flat = _flat_size(self.features, in_channels, image_size)
        drop = _check_dropout(dropout)
        self.head = nn.Sequential(
            nn.Dropout(drop) if drop > 0 else nn.Identity(),
            nn.Linear(flat, 120),
            act(),
            nn.Dropout(drop) if drop > 0 else nn.Identity(),
            nn.Linear(120, 84),
            act(),
            nn.Dropout(drop) if drop > 0 else nn.Identity(),
            nn.Linear(84, num_outputs),
        )


class ResidualBlock(nn.Module):
    """x + conv(act(norm(conv(act(norm(x)))))) with 3x3 kernels (pre-activation form, He et al. 2016, arXiv:1603.05027).

    Arguments:
        channels: channels of the residual stream (kept unchanged).
        activation: one of relu, tanh, gelu, elu, silu, softplus.
        norm: None, "batch" or "layer".
        dropout: dropout probability between the two convolutions (0 for none).

    Example:
        >>> block = ResidualBlock(4, "relu", None, 0.0)
        >>> _ = torch.nn.init.zeros_(block.body[-1].weight), torch.nn.init.zeros_(block.body[-1].bias)
        >>> x = torch.linspace(-1, 1, 64).reshape(1, 4, 4, 4)
        >>> torch.equal(block(x), x)  # a zero last convolution leaves the identity path
        True

    References:
        He, Zhang, Ren & Sun (2016), Identity Mappings in Deep Residual Networks, arXiv:1603.05027.
    """

    def __init__(self, channels: int, activation: str, norm: str | None, dropout: float) -> None:
        super().__init__()
        act = ACTIVATIONS[activation]
        self.body = nn.Sequential(
            _norm_2d(norm, channels),
            act(),
            nn.Conv2d(channels, channels, 3, padding=1),
            _norm_2d(norm, channels),
            act(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network outputs.

        Arguments:
            x: feature maps [B, channels, H, W].

        Returns:
            x plus the residual, [B, channels, H, W].
        """
        return x + self.body(x)


@serializable
class ResidualCNN(_ConvFeaturesHead):
    """A small residual CNN: a 3x3 stem, ``num_blocks`` residual blocks, global average pooling and a Linear head.

    Arguments:
        in_channels: image channels C.
        image_size: H = W of the input.
        num_outputs: outputs of the head.
        width: channels of the residual stream.
        num_blocks: residual blocks.
        activation, dropout, norm: as in :class:`MLP` (dropout inside each block).

    Example:
        >>> ResidualCNN(1, 8, 10, width=8)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])

    References:
        He, Zhang, Ren & Sun (2016), Deep residual learning for image recognition, arXiv:1512.03385.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        num_outputs: int = 10,
        width: int = 16,
        num_blocks: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str | None = "batch",
    ) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(image_size, "image_size")
        check_positive_int(width, "width")
        check_choice(activation, "activation", list(ACTIVATIONS))
        check_choice(norm, "norm", NORMS)
        self.input_shape = (in_channels, image_size, image_size)
        self.out_features = num_outputs
        blocks = [ResidualBlock(width, activation, norm, _check_dropout(dropout)) for _ in range(num_blocks)]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            *blocks,
            _norm_2d(norm, width),
            ACTIVATIONS[activation](),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(width, num_outputs)


@renamed_arguments(keywords={"input_size": "in_features"})
@serializable
class RecurrentNet(nn.Module):
    """An LSTM or GRU over sequences [B, T, F]; the last hidden state goes through norm, dropout and a Linear head.

    Use it for sequence classification (``num_outputs`` classes) or regression (1 or 2 outputs).

    Arguments:
        in_features: F, the features per step (``input_size`` is its deprecated name).
        hidden_size: hidden units per layer.
        num_outputs: outputs of the head.
        cell: "lstm" or "gru".
        num_layers: stacked recurrent layers.
        dropout: dropout between recurrent layers and before the head.
        norm: None or "layer" (layer norm on the last hidden state).

    Example:
        >>> RecurrentNet(3, 8, 2, cell="gru")(torch.zeros(4, 5, 3)).shape
        torch.Size([4, 2])

    References:
        Hochreiter & Schmidhuber (1997), Long short-term memory; Cho et al. (2014), arXiv:1406.1078 (GRU).
    """

    def __init__(
        self,
        in_features: int,
        hidden_size: int = 32,
        num_outputs: int = 1,
        cell: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        norm: str | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        check_positive_int(hidden_size, "hidden_size")
        check_choice(cell, "cell", ["lstm", "gru"])
        check_choice(norm, "norm", (None, "layer"))
        self.input_shape = (None, in_features)
        self.out_features = num_outputs
        drop = _check_dropout(dropout)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(
            in_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=drop if num_layers > 1 else 0.0,
        )
        self.norm = _norm_1d(norm, hidden_size)
        self.dropout = nn.Dropout(drop) if drop > 0 else nn.Identity()
        self.head = nn.Linear(hidden_size, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network outputs.

        Arguments:
            x: sequences [B, T, in_features].

        Returns:
            Outputs [B, num_outputs] from the last time step.
        """
        out, _ = self.rnn(x)
        return self.head(self.dropout(self.norm(out[:, -1])))
