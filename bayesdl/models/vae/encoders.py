"""Inference networks q(z | x): diagonal-Gaussian encoders with an MLP or a small convolutional body.

The posterior interface of :class:`bayesdl.models.vae.VAE` is any module with

* ``latent_dim`` (int) and ``data_shape`` (tuple), and
* ``forward(x) -> Distribution`` over z with batch shape ``[B]`` and event shape ``[latent_dim]``
  that supports ``rsample(sample_shape)`` and ``log_prob(z)`` (Pyro or torch distributions).

Both encoders here return ``Normal(mu(x), sigma(x)).to_event(1)``, sigma = softplus(raw) + 1e-4,
which has an analytic KL to a standard-Normal prior. A normalizing-flow posterior is the same
interface returning a ``TransformedDistribution`` (see :mod:`bayesdl.models.vae.vae`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro.distributions as dist
import torch
import torch.nn.functional as F

from ...deprecation import renamed_arguments
from ...errors import InputError
from ...io import serializable
from ...validation import check_positive_int

MIN_SCALE = 1e-4


def mlp(sizes: Sequence[int], activation: type[torch.nn.Module] = torch.nn.ReLU) -> torch.nn.Sequential:
    """A fully connected net with ``activation`` between the layers (none after the last)."""
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    return torch.nn.Sequential(*layers)


def gaussian_split(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``out`` [..., 2L] into mu [..., L] and sigma = softplus(raw) + 1e-4 [..., L]."""
    loc, raw = out.float().chunk(2, dim=-1)  # float32 even under autocast: the KL is computed from these
    return loc, F.softplus(raw) + MIN_SCALE


class GaussianEncoder(torch.nn.Module):
    """Shared part of the diagonal-Gaussian encoders: ``gaussian_params(x)`` -> (mu, sigma), and
    ``forward(x)`` -> ``Normal(mu, sigma).to_event(1)``. The VAE's training loss uses the
    parameters directly (reparameterised sample, closed-form KL) without building the distribution."""

    data_shape: tuple[int, ...]
    latent_dim: int

    def gaussian_params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu(x) and sigma(x), each [..., L], for x [..., *data_shape]."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> dist.TorchDistribution:
        loc, scale = self.gaussian_params(x)
        # parameters are valid by construction, so skip torch's per-call argument validation
        return dist.Independent(dist.Normal(loc, scale, validate_args=False), 1, validate_args=False)


def _hidden(hidden_sizes: Sequence[int] | int) -> list[int]:
    dims = [hidden_sizes] if isinstance(hidden_sizes, int) else list(hidden_sizes)
    for d in dims:
        check_positive_int(d, "hidden_sizes")
    return dims


@renamed_arguments(keywords={"hidden_dims": "hidden_sizes"})
@serializable
class MLPEncoder(GaussianEncoder):
    """q(z|x) = N(mu(x), diag sigma(x)^2) with an MLP on the flattened input.

    Arguments:
        data_shape: the shape of one example, e.g. ``[784]`` or ``[1, 28, 28]`` (flattened inside).
        latent_dim: L, the dimension of z.
        hidden_sizes: widths of the hidden layers (``hidden_dims`` is the deprecated name).
        input_scale: x is multiplied by this before the first layer (use 1/255 for raw 8-bit levels).

    Example:
        >>> q = MLPEncoder([6], latent_dim=2, hidden_sizes=[8])(torch.rand(5, 6))
        >>> q.batch_shape, q.event_shape, q.rsample([3]).shape
        (torch.Size([5]), torch.Size([2]), torch.Size([3, 5, 2]))

    References:
        Kingma & Welling (2013), Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        hidden_sizes: Sequence[int] | int = (400,),
        input_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.data_shape = tuple(check_positive_int(int(s), "data_shape") for s in data_shape)
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.input_scale = float(input_scale)
        self.net = mlp([math.prod(self.data_shape), *_hidden(hidden_sizes), 2 * self.latent_dim])

    def gaussian_params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = x.reshape(*x.shape[: x.dim() - len(self.data_shape)], -1).to(self.net[0].weight.dtype)
        return gaussian_split(self.net(flat if self.input_scale == 1.0 else flat * self.input_scale))


def conv_stack(in_channels: int, channels: Sequence[int]) -> torch.nn.Sequential:
    """Stride-2 4x4 convolutions with ReLU: each halves the height and width."""
    layers: list[torch.nn.Module] = []
    for c in channels:
        layers += [torch.nn.Conv2d(in_channels, c, 4, stride=2, padding=1), torch.nn.ReLU()]
        in_channels = c
    return torch.nn.Sequential(*layers)


def check_image_shape(data_shape: Sequence[int], num_halvings: int) -> tuple[int, int, int]:
    """Check that ``data_shape`` is [C, H, W] with H and W divisible by 2**num_halvings."""
    shape = tuple(int(s) for s in data_shape)
    factor = 2**num_halvings
    if len(shape) != 3 or min(shape) < 1 or shape[1] % factor or shape[2] % factor:
        raise InputError(
            f"data_shape must be [C, H, W] with H and W divisible by {factor}, got {list(shape)}"
        )
    return shape  # type: ignore[return-value]


@serializable
class ConvEncoder(GaussianEncoder):
    """q(z|x) = N(mu(x), diag sigma(x)^2) with stride-2 convolutions, then one linear layer.

    Arguments:
        data_shape: ``[C, H, W]``; H and W must be divisible by 2**len(channels).
        latent_dim: L.
        channels: output channels of the stride-2 convolutions.
        input_scale: multiplies x before the first layer.

    Example:
        >>> enc = ConvEncoder([1, 8, 8], latent_dim=3, channels=[4, 8])
        >>> enc(torch.rand(2, 1, 8, 8)).event_shape
        torch.Size([3])
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        channels: Sequence[int] = (32, 64),
        input_scale: float = 1.0,
    ) -> None:
        super().__init__()
        channels = [check_positive_int(int(c), "channels") for c in channels]
        if not channels:
            raise InputError("channels must list at least one convolution width")
        self.data_shape = check_image_shape(data_shape, len(channels))
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.input_scale = float(input_scale)
        c, h, w = self.data_shape
        self.body = conv_stack(c, channels)
        flat = channels[-1] * (h >> len(channels)) * (w >> len(channels))
        self.head = torch.nn.Linear(flat, 2 * self.latent_dim)

    def gaussian_params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lead = x.shape[:-3]
        feats = self.body(x.reshape(-1, *self.data_shape).to(self.head.weight.dtype) * self.input_scale)
        return gaussian_split(self.head(feats.flatten(1)).reshape(*lead, -1))
