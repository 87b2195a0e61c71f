"""Data sets and loaders: embedded digits and diabetes, Fashion-MNIST from IDX files (in memory or read lazily), toy densities
and regression, and the batch sources the trainer reads (in-memory tensors, DataLoaders, Datasets)."""

from .binarize import binarize, dequantize
from .co2 import load_co2_monthly
from .diabetes import load_diabetes
from .digits import load_digits, load_digits_levels
from .fashion_mnist import find_fashion_mnist, load_fashion_mnist, load_fashion_mnist_levels, read_idx
from .idx_dataset import IDXImageDataset
from .loader import BatchLoader, DeviceBatches, PermutationSampler, as_batches
from .toy import (
    TOY_DENSITIES,
    TOY_REGRESSIONS,
    heteroscedastic_noise_std,
    regression_truth,
    toy_density,
    toy_regression,
)

__all__ = [
    "BatchLoader",
    "DeviceBatches",
    "IDXImageDataset",
    "PermutationSampler",
    "as_batches",
    "TOY_DENSITIES",
    "TOY_REGRESSIONS",
    "binarize",
    "dequantize",
    "find_fashion_mnist",
    "heteroscedastic_noise_std",
    "load_co2_monthly",
    "load_diabetes",
    "load_digits",
    "load_digits_levels",
    "load_fashion_mnist",
    "load_fashion_mnist_levels",
    "read_idx",
    "regression_truth",
    "toy_density",
    "toy_regression",
]
