"""A residual MLP denoiser eps_theta(x_t, t[, y]) for vector data, conditioned on a sinusoidal time embedding
(and, optionally, a learned class embedding)."""

from __future__ import annotations

import torch

from ..deprecation import renamed_arguments
from ..errors import InputError
from ..io import serializable
from ..validation import check_positive_int, check_tensor
from .label_embedding import LabelEmbedding, add_label_embedding
from .time_embedding import SinusoidalTimeEmbedding


class _TimeResidualBlock(torch.nn.Module):
    def __init__(self, hidden: int, time_dim: int) -> None:
        super().__init__()
        self.norm = torch.nn.LayerNorm(hidden)
        self.fc1 = torch.nn.Linear(hidden, hidden)
        self.time = torch.nn.Linear(time_dim, hidden)
        self.fc2 = torch.nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        z = self.fc1(torch.nn.functional.silu(self.norm(h))) + self.time(temb)
        return h + self.fc2(torch.nn.functional.silu(z))


@renamed_arguments(keywords={"data_dim": "in_features", "out_dim": "out_features"})
@serializable
class DenoisingMLP(torch.nn.Module):
    """out = f(x_t, t): residual blocks h <- h + W2 silu(W1 silu(LN(h)) + A emb(t)), for x of shape [B, D].

    Arguments:
        in_features: D, the data width (``data_dim`` is its deprecated name).
        hidden: the width of the hidden layers.
        num_blocks: the number of residual blocks.
        time_dim: the width of the sinusoidal embedding of t.
        out_features: the output width (default D; 2D for a DDPM with learned variances; ``out_dim`` is its
            deprecated name).
        num_classes: K > 0 adds a class embedding (K labels plus a null label K, see
            :class:`~bayesdl.nn.label_embedding.LabelEmbedding`) to the time embedding, for a
            :class:`~bayesdl.models.diffusion.ConditionalDDPM`; 0 (default) for an unconditional denoiser.

    Example:
        >>> net = DenoisingMLP(2, hidden=16)
        >>> net(torch.randn(5, 2), torch.arange(5.0)).shape
        torch.Size([5, 2])
        >>> cond = DenoisingMLP(2, hidden=16, num_classes=3)
        >>> cond(torch.randn(5, 2), torch.arange(5.0), torch.tensor([0, 1, 2, 3, 0])).shape  # label 3 = null
        torch.Size([5, 2])

    References:
        Ho, Jain & Abbeel (2020), Denoising Diffusion Probabilistic Models, arXiv:2006.11239.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int = 128,
        num_blocks: int = 3,
        time_dim: int = 64,
        out_features: int | None = None,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        check_positive_int(hidden, "hidden")
        check_positive_int(num_blocks, "num_blocks")
        self.out_features = (
            in_features if out_features is None else check_positive_int(out_features, "out_features")
        )
        self.embed = SinusoidalTimeEmbedding(time_dim)
        self.time_mlp = torch.nn.Sequential(
            torch.nn.Linear(time_dim, hidden), torch.nn.SiLU(), torch.nn.Linear(hidden, hidden)
        )
        self.labels = LabelEmbedding(num_classes, hidden) if num_classes else None
        self.num_classes = self.labels.num_classes if self.labels is not None else 0
        self.inp = torch.nn.Linear(in_features, hidden)
        self.blocks = torch.nn.ModuleList([_TimeResidualBlock(hidden, hidden) for _ in range(num_blocks)])
        self.out_norm = torch.nn.LayerNorm(hidden)
        self.out = torch.nn.Linear(hidden, self.out_features)

    @property
    def data_dim(self) -> int:
        """Old name of :attr:`in_features`."""
        return self.in_features

    @property
    def out_dim(self) -> int:
        """Old name of :attr:`out_features`."""
        return self.out_features

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, D], times t [B] and (class-conditional nets only) labels y [B] in 0..K (K = null) -> [B, out_features]."""
        check_tensor(x, "x", shape=[None, self.in_features], finite=False)
        if t.shape != (x.shape[0],):
            raise InputError(f"t must have shape [{x.shape[0]}], got {list(t.shape)}")
        temb = add_label_embedding(self.time_mlp(self.embed(t)), self.labels, y, "DenoisingMLP")
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, temb)
        return self.out(torch.nn.functional.silu(self.out_norm(h)))
