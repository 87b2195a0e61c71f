"""PixelVAE decoder: p(x|z) is a gated PixelCNN conditioned on the latent code z.

The decoder maps z through a small MLP to a conditioning vector c(z), which every gated layer of
:class:`bayesdl.models.autoregressive.PixelCNN` adds to its gates (the continuous analogue of the
class one-hot of van den Oord et al. 2016, arXiv:1606.05328). The likelihood is then an exact
autoregressive product p(x|z) = prod_i p(x_i | x_<i, z) (Gulrajani et al. 2016, PixelVAE,
arXiv:1611.05013; Chen et al. 2017, arXiv:1611.02731).

A decoder this strong can model x on its own and leave z unused: the KL term then falls to zero
(posterior collapse). Watch the KL per example and the active units, and use the VAE's
``free_bits`` (Kingma et al. 2016, arXiv:1606.04934) to keep a floor of information in z.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro.distributions as dist
import torch
from torch.distributions import constraints

from ...errors import InputError
from ...io import serializable
from ...validation import check_positive_int, check_tensor
from ..autoregressive import PixelCNN
from ..autoregressive.sampling import make_generator
from .encoders import _hidden, check_image_shape, mlp


class PixelCNNConditional(dist.TorchDistribution):
    """p(x|z) for codes z [..., L]: batch shape z.shape[:-1], event shape [C, H, W].

    ``log_prob(x)`` runs the masked network once on x with the conditioning of z (exact, nats per
    image); ``sample()`` draws the pixels one by one in raster order, seeding its generator from torch's
    global one. There is no closed-form mean.

    Arguments:
        decoder: the :class:`PixelCNNDecoder` whose network scores and samples the pixels.
        z: latent codes [..., L]; their leading dimensions become the batch shape.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> dec = PixelCNNDecoder(2, [1, 2, 2], num_layers=1, hidden_channels=4, condition_dims=[4])
        >>> p = PixelCNNConditional(dec, torch.zeros(3, 2))
        >>> x = p.sample()
        >>> p.batch_shape, p.event_shape, x.shape
        (torch.Size([3]), torch.Size([1, 2, 2]), torch.Size([3, 1, 2, 2]))
        >>> grid = torch.tensor([[i >> 3 & 1, i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(16)]).float()
        >>> with torch.no_grad():
        ...     probs = PixelCNNConditional(dec, torch.zeros(16, 2)).log_prob(grid.reshape(16, 1, 2, 2)).exp()
        >>> round(float(probs.sum()), 5)  # an exact distribution over the 16 binary 2x2 images
        1.0

    References:
        Gulrajani et al. (2016), PixelVAE, arXiv:1611.05013; van den Oord et al. (2016), Conditional Image
        Generation with PixelCNN Decoders, arXiv:1606.05328.
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, decoder: PixelCNNDecoder, z: torch.Tensor) -> None:
        self.decoder = decoder
        self.z = z
        super().__init__(torch.Size(z.shape[:-1]), torch.Size(decoder.data_shape), validate_args=False)

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.independent(constraints.boolean, len(self.event_shape))

    @property
    def mean(self) -> torch.Tensor:
        raise NotImplementedError(
            "a PixelCNN decoder has no closed-form mean: use sample() (e.g. VAE.sample(n, mean=False))"
        )

    def expand(self, batch_shape: torch.Size, _instance: object = None) -> PixelCNNConditional:
        return PixelCNNConditional(self.decoder, self.z.expand(*batch_shape, self.z.shape[-1]))

    def _flat_condition(self, shape: torch.Size) -> torch.Tensor:
        z = self.z.expand(*shape, self.z.shape[-1]).reshape(-1, self.z.shape[-1])
        return self.decoder.condition(z)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        n_event = len(self.event_shape)
        if tuple(value.shape[value.dim() - n_event :]) != tuple(self.event_shape):
            raise InputError(f"x must end with the shape {list(self.event_shape)}, got {list(value.shape)}")
        shape = torch.broadcast_shapes(value.shape[: value.dim() - n_event], self.batch_shape)
        x = value.expand(*shape, *self.event_shape).reshape(-1, *self.event_shape)
        return self.decoder.pixelcnn.log_prob(x, condition=self._flat_condition(shape)).reshape(shape)

    @torch.no_grad()
    def sample(self, sample_shape: torch.Size | tuple[int, ...] = ()) -> torch.Tensor:
        shape = torch.Size(sample_shape) + self.batch_shape
        n = max(math.prod(shape), 1)
        generator = make_generator(None, None, self.z.device)  # seeded from torch's global generator
        x = self.decoder.pixelcnn.sample(n, generator=generator, condition=self._flat_condition(shape))
        return x.reshape(*shape, *self.event_shape)


@serializable
class PixelCNNDecoder(torch.nn.Module):
    """p(x|z) = a gated PixelCNN over binary images [C, H, W], conditioned on c(z) = MLP(z).

    Arguments:
        latent_dim: L.
        data_shape: [C, H, W] of binary images.
        num_layers: gated PixelCNN layers.
        hidden_channels: width of the PixelCNN stacks.
        condition_dims: hidden widths of the MLP z -> c(z); the last is the conditioning width.
        kernel_size: size of the masked convolutions.

    Example:
        >>> dec = PixelCNNDecoder(2, [1, 3, 3], num_layers=2, hidden_channels=8, condition_dims=[8])
        >>> p = dec(torch.zeros(4, 2))
        >>> x = p.sample()
        >>> x.shape, p.log_prob(x).shape
        (torch.Size([4, 1, 3, 3]), torch.Size([4]))

    References:
        Gulrajani et al. (2016), "PixelVAE", arXiv:1611.05013; van den Oord et al. (2016), arXiv:1606.05328.
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        num_layers: int = 4,
        hidden_channels: int = 32,
        condition_dims: Sequence[int] | int = (64,),
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.data_shape = check_image_shape(data_shape, 0)
        widths = _hidden(condition_dims)
        c, h, w = self.data_shape
        self.condition_net = torch.nn.Sequential(mlp([self.latent_dim, *widths]), torch.nn.Tanh())
        self.pixelcnn = PixelCNN(
            c,
            (h, w),
            num_layers=num_layers,
            hidden_channels=hidden_channels,
            likelihood="bernoulli",
            kernel_size=kernel_size,
            condition_size=widths[-1],
        )

    def condition(self, z: torch.Tensor) -> torch.Tensor:
        """The conditioning vectors c(z) [N, width] for codes z [N, L]."""
        return self.condition_net(z)

    def forward(self, z: torch.Tensor) -> PixelCNNConditional:
        return PixelCNNConditional(self, z)

    def check_data(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Raise InputError unless x [B, C, H, W] is finite binary data."""
        check_tensor(x, name, shape=[None, *self.data_shape])
        self.pixelcnn.likelihood.check(x, name)
        return x
