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

from ..errors import InputError
from ..validation import check_choice, check_range, check_tensor

BINARIZE_MODES = (None, "static", "dynamic")


def binarize(
    x: torch.Tensor, *, seed: int | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw one binary image x_b ~ Bernoulli(x) per input, independently for every pixel.

    Arguments:
        x: intensities in [0, 1], any shape (e.g. [B, D] or [B, C, H, W]); values outside [0, 1], NaN or
            an empty tensor raise :class:`bayesdl.errors.InputError`.
        seed: the seed of a fresh generator on ``x.device`` (0 when both ``seed`` and ``generator`` are None),
            so that the same seed gives the same binarisation (static binarisation).
        generator: a generator to draw from instead; it takes precedence over ``seed``.

    Returns:
        A tensor of the shape, dtype and device of ``x`` holding exactly 0.0 or 1.0.

    Example:
        >>> x = torch.tensor([[0.0, 1.0, 0.5, 0.5]])
        >>> xb = binarize(x, seed=3)
        >>> xb[0, :2].tolist(), bool(((xb == 0) | (xb == 1)).all()), torch.equal(xb, binarize(x, seed=3))
        ([0.0, 1.0], True, True)

    References:
        Salakhutdinov & Murray (2008), On the Quantitative Analysis of Deep Belief Networks, ICML
        (the stochastically binarised MNIST protocol).
    """
    check_tensor(x, "x")
    check_range(x, "x", 0.0, 1.0)
    if generator is None:
        generator = torch.Generator(device=x.device)
        generator.manual_seed(0 if seed is None else seed)
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (u < x).to(x.dtype)


def apply_binarize_mode(x: torch.Tensor, mode: str | None, seed: int) -> torch.Tensor:
    """Apply a loader's ``binarize=`` mode at load time: 'static' draws once; None and 'dynamic' return x as is.

    Arguments:
        x: intensities in [0, 1], any shape.
        mode: None (grey levels), "static" (one seeded Bernoulli draw now) or "dynamic" (left as grey
            levels here; :class:`bayesdl.data.BatchLoader` redraws them per batch).
        seed: the seed of the static draw.

    Returns:
        ``binarize(x, seed=seed)`` for "static", else ``x`` itself.

    Example:
        >>> x = torch.full((2, 3), 0.5)
        >>> apply_binarize_mode(x, "dynamic", seed=0) is x
        True
    """
    check_choice(mode, "binarize mode", BINARIZE_MODES)
    if mode == "static":
        return binarize(x, seed=seed)
    return x


def dequantize(
    levels: torch.Tensor, *, num_levels: int = 256, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Uniformly dequantise integer levels in {0, ..., num_levels-1} to (k + u) / num_levels in [0, 1).

    The density of the result on [0, 1]^D times num_levels^{-D} lower-bounds the discrete
    probability of the levels (see :func:`bayesdl.inference.bits_per_dim`, which accounts for the
    num_levels scaling).

    Arguments:
        levels: integer levels in {0, ..., num_levels-1} (an integer tensor, or a float tensor holding whole
            numbers), any shape. Fractional or out-of-range values raise :class:`bayesdl.errors.InputError`.
        num_levels: the number of discrete levels K (256 for 8-bit images).
        generator: the random source of the uniform noise u ~ U(0, 1) (torch's global generator if None).

    Returns:
        float32 values (k + u) / K of the shape of ``levels``, each in [k / K, (k + 1) / K).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> y = dequantize(torch.tensor([0, 3, 255]), generator=g)
        >>> (y * 256).floor().long().tolist()
        [0, 3, 255]

    References:
        Theis, van den Oord & Bethge (2016), A note on the evaluation of generative models, arXiv:1511.01844.
    """
    check_tensor(levels, "levels")
    if levels.is_floating_point() and not bool((levels == levels.round()).all()):
        raise InputError(
            f"levels must be whole numbers in {{0, ..., {num_levels - 1}}}; got fractional values"
        )
    check_range(levels.float(), "levels", 0, num_levels - 1)
    u = torch.rand(levels.shape, generator=generator, device=levels.device)
    return (levels.float() + u) / num_levels
