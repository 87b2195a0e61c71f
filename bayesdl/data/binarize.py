"""Binarisation and dequantisation of image intensities.

* Static binarisation draws each pixel once, x_b ~ Bernoulli(x), with a fixed seed, so the data set
  is the same every time (the protocol of Salakhutdinov & Murray 2008 for binarised MNIST).
* Dynamic binarisation redraws x_b ~ Bernoulli(x) every time a batch is taken; it is applied by
  :class:`bayesdl.data.BatchLoader`, not when the data are loaded.
* Uniform dequantisation turns 8-bit levels k in {0..255} into continuous values (k + u) / 256 with
  u ~ U(0, 1), so that a continuous density on [0, 1]^D lower-bounds the discrete likelihood
  (Theis, van den Oord & Bethge 2016, arXiv:1511.01844).
"""

from __future__ import annotations

import torch

from ..validation import check_choice, check_range, check_tensor

BINARIZE_MODES = (None, "static", "dynamic")


def binarize(x: torch.Tensor, *, seed: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw x_b ~ Bernoulli(x) elementwise for intensities x in [0, 1]; returns float32 0/1 values."""
    check_tensor(x, "x")
    check_range(x, "x", 0.0, 1.0)
    if generator is None:
        generator = torch.Generator(device=x.device)
        generator.manual_seed(0 if seed is None else seed)
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (u < x).to(x.dtype)


def apply_binarize_mode(x: torch.Tensor, mode: str | None, seed: int) -> torch.Tensor:
    """Apply a ``binarize=`` mode at load time: 'static' draws once; None and 'dynamic' return x as is."""
    check_choice(mode, "binarize mode", BINARIZE_MODES)
    if mode == "static":
        return binarize(x, seed=seed)
    return x


def dequantize(levels: torch.Tensor, *, num_levels: int = 256, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniformly dequantise integer levels in {0, ..., num_levels-1} to (k + u) / num_levels in [0, 1).

    The density of the result on [0, 1]^D times num_levels^{-D} lower-bounds the discrete
    probability of the levels (see :func:`bayesdl.inference.bits_per_dim`, which accounts for the
    num_levels scaling).
    """
    check_tensor(levels, "levels")
    if levels.is_floating_point() and not bool((levels == levels.round()).all()):
        raise ValueError("levels must be integers in {0, ..., num_levels-1}")
    check_range(levels.float(), "levels", 0, num_levels - 1)
    u = torch.rand(levels.shape, generator=generator, device=levels.device)
    return (levels.float() + u) / num_levels
