"""Reusable layers with no training logic."""

from .denoising_mlp import DenoisingMLP
from .time_embedding import SinusoidalTimeEmbedding
from .unet import UNet

__all__ = ["DenoisingMLP", "SinusoidalTimeEmbedding", "UNet"]
