"""Generative networks p(x | z): an MLP or a small transposed-convolution net, plus a likelihood.

The decoder interface of :class:`bayesdl.models.vae.VAE` is any module with

* ``data_shape`` (tuple),
* ``forward(z) -> Distribution`` over x whose batch shape is ``z.shape[:-1]`` and whose event shape
  is ``data_shape`` (so ``log_prob(x)`` is nats per example and broadcasts over sample dimensions), and
* ``check_data(x, name)``, which raises InputError for data the likelihood cannot score.

A PixelCNN decoder fits the same interface: its ``forward(z)`` returns a distribution whose
``log_prob(x)`` runs the masked network on x conditioned on z and whose ``sample()`` draws pixels
in raster order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro.distributions as dist
import torch

from ...deprecation import renamed_arguments
from ...errors import InputError
from ...io import serializable
from ...nn.heads import RENAMED_DENSITY_HEADS, BernoulliHead, Head
from ...validation import check_positive_int, check_tensor
from .encoders import _hidden, check_image_shape, mlp
from .likelihoods import DecoderLikelihood, decoder_head


class Decoder(torch.nn.Module):
    """Shared part of the decoders: a likelihood that turns ``[..., P, *data_shape]`` outputs into p(x|z).

    A subclass sets ``data_shape`` and ``likelihood`` and implements :meth:`params`; ``decoder(z)`` is then
    a distribution with batch shape ``z.shape[:-1]`` and event shape ``data_shape`` whose ``log_prob(x)``
    is nats per example. The base class takes no constructor arguments.

    Example:
        >>> from bayesdl.nn.heads import BernoulliHead
        >>> class LinearDecoder(Decoder):  # logits = z W^T, one per data dimension
        ...     def __init__(self, latent_dim, features):
        ...         super().__init__()
        ...         self.data_shape, self.likelihood = (features,), BernoulliHead()
        ...         self.net = torch.nn.Linear(latent_dim, features, bias=False)
        ...         torch.nn.init.zeros_(self.net.weight)
        ...     def params(self, z):
        ...         return self.net(z).unsqueeze(-2)  # [..., P=1, features]
        >>> p = LinearDecoder(2, 3)(torch.zeros(5, 2))
        >>> p.batch_shape, p.event_shape, round(float(p.log_prob(torch.ones(3)).detach()[0]), 4)  # 3 log(1/2)
        (torch.Size([5]), torch.Size([3]), -2.0794)

    References:
        Kingma & Welling (2013), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """

    data_shape: tuple[int, ...]
    likelihood: Head

    def params(self, z: torch.Tensor) -> torch.Tensor:
        """The raw likelihood parameters [..., P, *data_shape] for latent codes z [..., L]."""
        raise NotImplementedError

    def forward(self, z: torch.Tensor) -> dist.TorchDistribution:
        return self.likelihood.distribution(
            self.params(z).float(), len(self.data_shape)
        )  # float32 under autocast

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats, shape z.shape[:-1] (x broadcasts over the leading sample dimensions of z):
        the same number as ``self(z).log_prob(x)``, without building the distribution object."""
        return self.likelihood.log_prob(self.params(z).float(), x, len(self.data_shape))

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise InputError unless x is valid data for the likelihood."""
        if isinstance(self.likelihood, BernoulliHead):
            # the encoder and the fused cross-entropy both need floating data: 0/1 as an integer tensor is refused here
            check_tensor(x, name, floating=True, finite=False, nonempty=False)
        return self.likelihood.check_data(x, name)


@renamed_arguments(keywords={"hidden_dims": "hidden_sizes"}, values={"likelihood": RENAMED_DENSITY_HEADS})
@serializable
class MLPDecoder(Decoder):
    """p(x|z) with an MLP from z to the likelihood parameters of every data dimension.

    Arguments:
        latent_dim: L.
        data_shape: the shape of one example, e.g. ``[784]``.
        hidden_sizes: widths of the hidden layers (``hidden_dims`` is the deprecated name).
        likelihood: "bernoulli", "gaussian" (learned per-pixel scale), "levels" (256 levels; "categorical" is
            its deprecated name)
            or a :class:`~bayesdl.nn.heads.Head` instance.

    Example:
        >>> dec = MLPDecoder(2, [6], hidden_sizes=[8])
        >>> p = dec(torch.randn(3, 5, 2))
        >>> p.batch_shape, p.event_shape
        (torch.Size([3, 5]), torch.Size([6]))

    References:
        Kingma & Welling (2013), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        hidden_sizes: Sequence[int] | int = (400,),
        likelihood: DecoderLikelihood | Head = "bernoulli",
    ) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.data_shape = tuple(check_positive_int(int(s), "data_shape") for s in data_shape)
        self.likelihood = decoder_head(likelihood)
        self.net = mlp(
            [self.latent_dim, *_hidden(hidden_sizes), self.likelihood.num_params * math.prod(self.data_shape)]
        )

    def params(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(*z.shape[:-1], self.likelihood.num_params, *self.data_shape)


@renamed_arguments(values={"likelihood": RENAMED_DENSITY_HEADS})
@serializable
class ConvDecoder(Decoder):
    """p(x|z) with a linear layer to a small feature map, then stride-2 transposed convolutions.

    Arguments:
        latent_dim: L.
        data_shape: ``[C, H, W]``; H and W must be divisible by 2**len(channels).
        channels: channels of the feature maps, coarsest first; each transposed conv doubles H and W.
        likelihood: as for :class:`MLPDecoder`.

    Example:
        >>> dec = ConvDecoder(3, [1, 8, 8], channels=[8, 4])
        >>> dec(torch.randn(2, 3)).event_shape
        torch.Size([1, 8, 8])
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        channels: Sequence[int] = (64, 32),
        likelihood: DecoderLikelihood | Head = "bernoulli",
    ) -> None:
        super().__init__()
        channels = [check_positive_int(int(c), "channels") for c in channels]
        if not channels:
            raise InputError("channels must list at least one feature-map width")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.data_shape = check_image_shape(data_shape, len(channels))
        self.likelihood = decoder_head(likelihood)
        c, h, w = self.data_shape
        k = len(channels)
        self._start = (channels[0], h >> k, w >> k)
        self.head = torch.nn.Linear(self.latent_dim, math.prod(self._start))
        layers: list[torch.nn.Module] = []
        outs = list(channels[1:]) + [c * self.likelihood.num_params]
        for a, b in zip(channels, outs):
            layers += [torch.nn.ReLU(), torch.nn.ConvTranspose2d(a, b, 4, stride=2, padding=1)]
        self.body = torch.nn.Sequential(*layers)

    def params(self, z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        out = self.body(self.head(z.reshape(-1, self.latent_dim)).reshape(-1, *self._start))
        c, h, w = self.data_shape
        # out channels are ordered (param, channel)
        return out.reshape(*lead, self.likelihood.num_params, c, h, w)
