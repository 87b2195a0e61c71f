"""Data sets and loaders: embedded digits, Fashion-MNIST from IDX files, toy densities and regression."""

from .binarize import binarize, dequantize
from .co2 import load_co2_monthly
from .digits import load_digits, load_digits_levels
from .fashion_mnist import find_fashion_mnist, load_fashion_mnist, load_fashion_mnist_levels, read_idx
from .loader import BatchLoader
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
    "TOY_DENSITIES",
    "TOY_REGRESSIONS",
    "binarize",
    "dequantize",
    "find_fashion_mnist",
    "heteroscedastic_noise_std",
    "load_co2_monthly",
    "load_digits",
    "load_digits_levels",
    "load_fashion_mnist",
    "load_fashion_mnist_levels",
    "read_idx",
    "regression_truth",
    "toy_density",
    "toy_regression",
]
