"""Gated PixelCNN: an autoregressive image model with exact log-likelihood.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu (2016), "Conditional Image
Generation with PixelCNN Decoders", arXiv:1606.05328. The layers are in :mod:`bayesdl.nn.masked_conv`.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ...deprecation import renamed_arguments, renamed_value, sample_call_forms
from ...errors import InputError
from ...io import serializable
from ...nn.heads import RENAMED_DENSITY_HEADS, make_head
from ...nn.masked_conv import GatedPixelCNNLayer
from ...progress import Progress, progress_counter
from ...validation import check_labels, check_positive_int, check_tensor
from .sampling import check_num_samples, completion_inputs, make_generator


def _image_shape(image_size: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    if isinstance(image_size, int):
        return check_positive_int(image_size, "image_size"), image_size
    if isinstance(image_size, (list, tuple)) and len(image_size) == 2:
        return check_positive_int(image_size[0], "image_size[0]"), check_positive_int(
            image_size[1], "image_size[1]"
        )
    raise InputError(f"image_size must be an int or a pair (height, width), got {image_size!r}")


PIXELCNN_HEADS = ("bernoulli", "levels", "logistic_mixture")


@renamed_arguments(values={"likelihood": RENAMED_DENSITY_HEADS})
@serializable
class PixelCNN(nn.Module):
    """Gated PixelCNN over images [B, C, H, W] in raster order, p(x) = prod_{i,j} p(x_ij | x_<ij [, y]).

    The C channels of a pixel are generated together and are conditionally independent given the
    earlier pixels (for grey images C = 1 and this is no restriction).

    Arguments:
        in_channels: C.
        image_size: H (square) or (H, W).
        num_layers: gated layers (the first uses type-A masks). The receptive field reaches every
            earlier pixel when num_layers * (kernel_size // 2) >= max(H - 1, W - 1).
        hidden_channels: F, the width of both stacks.
        likelihood: "bernoulli" (binary pixels), "levels" (softmax over ``num_levels`` integer
            levels, e.g. 256 for 8-bit grey), or "logistic_mixture" (discretised logistic mixture of
            PixelCNN++ with ``num_components`` components over ``num_levels`` levels).
        kernel_size: k (odd) of the masked convolutions.
        num_classes: 0 for an unconditional model, else the number of classes y it is conditioned on.
        num_levels: the levels of integer data ("levels" and "logistic_mixture"; "categorical" is the deprecated
            name of "levels").
        num_components: components of the logistic mixture.
        condition_size: width of a continuous conditioning vector (e.g. a VAE's latent code z) added,
            through a learned linear map, to the gates of every layer like the class one-hot; 0 for none.
            It is passed as ``condition`` [B, condition_size] to ``forward``, ``log_prob``, ``sample``, ``complete``.

    Example:
        >>> model = PixelCNN(1, (3, 4), num_layers=3, hidden_channels=8)
        >>> x = model.sample(2, seed=0)
        >>> x.shape, model.log_prob(x).shape
        (torch.Size([2, 1, 3, 4]), torch.Size([2]))

    References:
        van den Oord et al. (2016), arXiv:1606.05328 (gated layers, two stacks, conditioning) and
        arXiv:1601.06759 (masks A/B, 256-way softmax); Salimans et al. (2017), arXiv:1701.05517
        (discretised logistic mixture).
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int | tuple[int, int] = 28,
        num_layers: int = 6,
        hidden_channels: int = 32,
        likelihood: Literal["bernoulli", "levels", "logistic_mixture"] = "bernoulli",
        kernel_size: int = 3,
        num_classes: int = 0,
        num_levels: int = 256,
        num_components: int = 5,
        condition_size: int = 0,
    ) -> None:
        super().__init__()
        likelihood = renamed_value(likelihood, "likelihood", RENAMED_DENSITY_HEADS)
        if likelihood not in PIXELCNN_HEADS:
            raise InputError(
                f"unknown likelihood {likelihood!r}; expected one of ['bernoulli', 'levels', 'logistic_mixture']"
            )
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.height, self.width = _image_shape(image_size)
        self.num_layers = check_positive_int(num_layers, "num_layers")
        self.hidden_channels = check_positive_int(hidden_channels, "hidden_channels")
        self.num_classes = check_positive_int(num_classes, "num_classes", minimum=0)
        self.condition_size = check_positive_int(condition_size, "condition_size", minimum=0)
        width = self.num_classes + self.condition_size
        self.likelihood = make_head(likelihood, num_levels=num_levels, num_components=num_components)
        self.kernel_size = kernel_size
        layers = [GatedPixelCNNLayer(in_channels, hidden_channels, kernel_size, "A", width)]
        layers += [
            GatedPixelCNNLayer(hidden_channels, hidden_channels, kernel_size, "B", width)
            for _ in range(num_layers - 1)
        ]
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(hidden_channels, hidden_channels, 1),
            nn.ReLU(),
            nn.Conv2d(hidden_channels, self.likelihood.num_params * in_channels, 1),
        )

    # ------------------------------------------------------------------------------------ network
    @property
    def device(self) -> torch.device:
        """The device of the parameters."""
        return self.head[-1].weight.device

    @property
    def receptive_radius(self) -> int:
        """How far (in rows up, and columns either side) the output at a pixel can look: num_layers * (k // 2)."""
        return self.num_layers * (self.kernel_size // 2)

    def _condition(
        self, y: torch.Tensor | None, batch: int, condition: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        labels = self._one_hot(y, batch)
        if self.condition_size == 0:
            if condition is not None:
                raise InputError(
                    "this PixelCNN has no continuous conditioning (condition_size=0); do not pass condition"
                )
            return labels
        if condition is None:
            raise InputError(
                f"this PixelCNN is conditioned on a vector: pass condition of shape [B, {self.condition_size}]"
            )
        check_tensor(condition, "condition", shape=(batch, self.condition_size), floating=True)
        condition = condition.to(self.device, torch.float32)
        return condition if labels is None else torch.cat([labels, condition], dim=1)

    def _one_hot(self, y: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if self.num_classes == 0:
            if y is not None:
                raise InputError("this PixelCNN is unconditional (num_classes=0); do not pass y")
            return None
        if y is None:
            raise InputError(
                f"this PixelCNN is class-conditional: pass labels y in 0..{self.num_classes - 1}"
            )
        check_labels(y, "y", batch, self.num_classes, integral_floats=True)
        return F.one_hot(y.long().to(self.device), self.num_classes).float()

    def _network(self, inputs: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        v = h = inputs
        for layer in self.layers:
            v, h = layer(v, h, condition)
        out = self.head(h)
        b, _, height, width = out.shape
        return out.reshape(b, self.likelihood.num_params, self.in_channels, height, width)

    def _check(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        check_tensor(x, name, shape=(None, self.in_channels, self.height, self.width), finite=False)
        self.likelihood.check(x, name)
        return x.to(self.device, torch.float32)

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None, condition: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The output parameters of every pixel's conditional, [B, P, C, H, W] (P per likelihood)."""
        x = self._check(x)
        return self._network(self.likelihood.encode(x), self._condition(y, len(x), condition))

    # ------------------------------------------------------------------------------------ density
    def log_prob(
        self, x: torch.Tensor, y: torch.Tensor | None = None, condition: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Exact log p(x [| y, condition]) in nats per image, [B]."""
        x = self._check(x)
        params = self._network(self.likelihood.encode(x), self._condition(y, len(x), condition))
        b = len(x)
        return self.likelihood.log_prob(params.reshape(b, params.shape[1], -1), x.reshape(b, -1), 1)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The mean negative log-likelihood of the batch (nats per image)."""
        return -self.log_prob(x, y).mean()

    # ------------------------------------------------------------------------------------ sampling
    def _row_vertical_features(
        self, inputs: torch.Tensor, condition: torch.Tensor | None, i: int
    ) -> list[torch.Tensor]:
        """The vertical pre-gate features of row i for every layer, each [B, 2F, 1, W].

        The vertical stack at row i sees only rows i-R..i-1 (R the receptive radius), so it is computed
        once per row on those rows, and never changes while row i is being sampled.
        """
        v = inputs[:, :, max(0, i - self.receptive_radius) : i + 1]
        features = []
        for layer in self.layers:
            v_pre, v = layer.vertical_step(v, condition)
            features.append(v_pre[:, :, -1:])
        return features

    def _pixel_params(
        self,
        inputs: torch.Tensor,
        features: list[torch.Tensor],
        condition: torch.Tensor | None,
        i: int,
        j: int,
    ) -> torch.Tensor:
        """Parameters [B, P, C] of pixel (i, j) from row i's vertical features and the horizontal stack.

        The horizontal stack at (i, j) depends only on row i, columns j-R..j, so only those are computed.
        The result equals the full network's output at (i, j).
        """
        left = max(0, j - self.receptive_radius)
        h = inputs[:, :, i : i + 1, left : j + 1]
        for layer, v_pre in zip(self.layers, features):
            h = layer.horizontal_step(h, v_pre[..., left : j + 1], condition)
        out = self.head(h)[:, :, 0, -1]
        return out.reshape(len(out), self.likelihood.num_params, self.in_channels)

    def _generate(
        self,
        x: torch.Tensor,
        observed: torch.Tensor,
        condition: torch.Tensor | None,
        generator: torch.Generator,
        progress: Progress = False,
        label: str = "PixelCNN sampling",
    ) -> torch.Tensor:
        inputs = self.likelihood.encode(x)
        to_draw = ~observed.flatten(0, 1).all(0)  # [H, W]: the pixels some image still misses
        with progress_counter(progress, int(to_draw.sum()), f"{label} ({len(x)} images)", "pixel") as counter:
            for i in range(self.height):
                if not bool(to_draw[i].any()):
                    continue
                features = self._row_vertical_features(inputs, condition, i)
                for j in range(self.width):
                    if not bool(to_draw[i, j]):
                        continue
                    draw = self.likelihood.sample(
                        self._pixel_params(inputs, features, condition, i, j), 1, generator
                    )  # [B, C]
                    x[:, :, i, j] = torch.where(observed[:, :, i, j], x[:, :, i, j], draw)
                    inputs[:, :, i, j] = self.likelihood.encode(x[:, :, i, j])
                    counter.update()
        return x

    def _labels(
        self, n: int, y: int | torch.Tensor | None, condition: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        if isinstance(y, int):
            y = torch.full((n,), y, dtype=torch.long)
        return self._condition(y, n, condition)

    @torch.no_grad()
    @sample_call_forms("y", "seed", "generator", "condition")
    def sample(
        self,
        num_samples: int,
        *,
        y: int | torch.Tensor | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        condition: torch.Tensor | None = None,
        progress: Progress = False,
    ) -> torch.Tensor:
        """Ancestral samples [n, C, H, W], pixel by pixel in raster order, each pixel for all n at once.

        Per row, the vertical stack is run once (it does not see the current row); per pixel, only the
        horizontal stack on the current row's last R+1 columns is run. This gives exactly the
        parameters of the full network at a fraction of the cost of recomputing the image.

        Arguments:
            num_samples: the number of images (draws, not means).
            y: for a class-conditional model, one label (int) or labels [n].
            seed, generator: the random source.
            condition: the conditioning vectors [n, condition_size] when ``condition_size > 0``.
            progress: count the H x W pixels drawn: False (default, silent), True or a label for a bar, or a
                callable ``(done, total)`` (see :mod:`bayesdl.progress`).
        """
        n = check_num_samples(num_samples)
        device = self.device
        condition = self._labels(n, y, condition)
        generator = make_generator(seed, generator, device)
        x = torch.zeros(n, self.in_channels, self.height, self.width, device=device)
        return self._generate(x, torch.zeros_like(x, dtype=torch.bool), condition, generator, progress)

    @torch.no_grad()
    def complete(
        self,
        x_partial: torch.Tensor,
        mask: torch.Tensor,
        y: int | torch.Tensor | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        condition: torch.Tensor | None = None,
        progress: Progress = False,
    ) -> torch.Tensor:
        """Inpaint the pixels where ``mask`` is False by ancestral sampling in raster order.

        Observed pixels are kept; each missing pixel is drawn given every pixel before it in raster
        order (observed or drawn). This is an exact draw from p(x_missing | x_observed) when the
        observed pixels are a raster prefix (e.g. the top rows); observed pixels after a missing one
        do not influence it.

        Arguments:
            x_partial: [B, C, H, W], valid data where observed (anything, even NaN, where missing).
            mask: bool or 0/1 of the shape of x_partial or broadcastable (e.g. [1, 1, H, W]); True = observed.
            y: labels for a class-conditional model.
            seed, generator: the random source.
            condition: the conditioning vectors [B, condition_size] when ``condition_size > 0``.
            progress: count the missing pixels drawn (pixels observed in every image are skipped), as in :meth:`sample`.
        """
        x, observed = completion_inputs(x_partial, mask, (self.in_channels, self.height, self.width))
        self.likelihood.check(x, "x_partial (observed entries)")
        device = self.device
        condition = self._labels(len(x), y, condition)
        generator = make_generator(seed, generator, device)
        return self._generate(
            x.to(device), observed.to(device), condition, generator, progress, "PixelCNN completion"
        )
