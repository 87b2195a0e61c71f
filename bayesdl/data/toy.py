"""Synthetic data with known structure: 2-D benchmark densities and 1-D regression with known noise.

The 2-D densities are the usual test beds of the normalizing-flow literature (e.g. Grathwohl et al.
2018, FFJORD, arXiv:1810.01367). All are centred roughly in [-4, 4]^2. The regression sets return
the true noise standard deviation so that aleatoric estimates can be checked against it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..validation import check_choice, check_positive_int

TOY_DENSITIES = ("two_moons", "eight_gaussians", "checkerboard", "rings", "pinwheel", "swiss_roll")
TOY_REGRESSIONS = ("heteroscedastic", "gap")


def _two_moons(rng: np.random.Generator, n: int) -> np.ndarray:
    upper = rng.random(n) < 0.5
    t = rng.random(n) * math.pi
    x = np.where(upper, np.cos(t), 1.0 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    pts = np.stack([x - 0.5, y - 0.25], axis=1) * 2.0
    return pts + rng.normal(scale=0.1, size=pts.shape)


def _eight_gaussians(rng: np.random.Generator, n: int) -> np.ndarray:
    k = rng.integers(0, 8, n)
    angle = k * (2 * math.pi / 8)
    centres = 2.5 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(scale=0.2, size=(n, 2))


def _checkerboard(rng: np.random.Generator, n: int) -> np.ndarray:
    # Eight unit squares of a 4x4 board on [-2, 2]^2, alternating like a chessboard, scaled by 2.
    col = rng.integers(0, 4, n)
    row = 2 * rng.integers(0, 2, n) + (col % 2)
    x = col + rng.random(n) - 2.0
    y = row + rng.random(n) - 2.0
    return np.stack([x, y], axis=1) * 2.0


def _rings(rng: np.random.Generator, n: int) -> np.ndarray:
    radius = rng.integers(1, 5, n) * 0.9
    angle = rng.random(n) * 2 * math.pi
    pts = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return pts + rng.normal(scale=0.08, size=pts.shape)


def _pinwheel(rng: np.random.Generator, n: int) -> np.ndarray:
    num_arms, radial_sd, tangential_sd, rate = 5, 0.3, 0.1, 0.25
    arm = rng.integers(0, num_arms, n)
    feats = rng.normal(size=(n, 2)) * np.array([radial_sd, tangential_sd])
    feats[:, 0] += 1.0
    angle = arm * (2 * math.pi / num_arms) + rate * np.exp(feats[:, 0])
    c, s = np.cos(angle), np.sin(angle)
    rotated = np.stack([c * feats[:, 0] - s * feats[:, 1], s * feats[:, 0] + c * feats[:, 1]], axis=1)
    return rotated * 2.0


def _swiss_roll(rng: np.random.Generator, n: int) -> np.ndarray:
    t = 1.5 * math.pi * (1 + 2 * rng.random(n))
    pts = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 3.5
    return pts + rng.normal(scale=0.1, size=pts.shape)


_DENSITY_SAMPLERS = {
    "two_moons": _two_moons,
    "eight_gaussians": _eight_gaussians,
    "checkerboard": _checkerboard,
    "rings": _rings,
    "pinwheel": _pinwheel,
    "swiss_roll": _swiss_roll,
}


def toy_density(name: str, n: int, seed: int = 0) -> torch.Tensor:
    """Draw ``n`` points from a 2-D benchmark density, as float32 [n, 2].

    Arguments:
        name: one of two_moons, eight_gaussians, checkerboard, rings, pinwheel, swiss_roll.
        n: the number of points (>= 1).
        seed: the seed; the same seed gives the same points.

    Returns:
        float32 points [n, 2], roughly inside [-4, 4]^2.

    Example:
        >>> toy_density("two_moons", 5, seed=1).shape
        torch.Size([5, 2])
        >>> torch.equal(toy_density("rings", 3, seed=2), toy_density("rings", 3, seed=2))
        True

    References:
        Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud (2018), FFJORD: Free-form Continuous Dynamics for
        Scalable Reversible Generative Models, arXiv:1810.01367 (the 2-D test densities).
    """
    check_choice(name, "toy density", TOY_DENSITIES)
    check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    return torch.as_tensor(_DENSITY_SAMPLERS[name](rng, n), dtype=torch.float32)


def heteroscedastic_noise_std(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """The true noise standard deviation of the "heteroscedastic" toy regression set, 0.05 + 0.1 |x|.

    Arguments:
        x: inputs of any shape (a tensor or a numpy array).

    Returns:
        float32 tensor of the shape of ``x``: the noise sd at each input, in the units of y.

    Example:
        >>> heteroscedastic_noise_std(torch.tensor([0.0, -2.0, 3.0]))
        tensor([0.0500, 0.2500, 0.3500])
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    return 0.05 + 0.1 * torch.abs(x)


def toy_regression(name: str, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw a 1-D regression set y = sin(2x) + 0.3x + noise with known noise level.

    * "heteroscedastic": x ~ U(-3, 3), noise sd 0.05 + 0.1 |x| (grows away from 0).
    * "gap": x ~ U([-3, -1] u [1, 3]), a hole in (-1, 1) where epistemic uncertainty should grow;
      constant noise sd 0.1.

    Arguments:
        name: "heteroscedastic" or "gap".
        n: the number of points (>= 1).
        seed: the seed; the same seed gives the same data.

    Returns:
        ``(x, y, noise_std)`` with x float32 [n, 1], y float32 [n], and the true noise sd [n].

    Example:
        >>> x, y, sd = toy_regression("gap", 100, seed=0)
        >>> bool(((x.abs() >= 1) & (x.abs() <= 3)).all())
        True
    """
    check_choice(name, "toy regression", TOY_REGRESSIONS)
    check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    if name == "heteroscedastic":
        x = rng.uniform(-3.0, 3.0, n)
        sd = heteroscedastic_noise_std(x).numpy().astype(np.float64)
    else:
        x = rng.uniform(1.0, 3.0, n) * rng.choice([-1.0, 1.0], n)
        sd = np.full(n, 0.1)
    y = np.sin(2.0 * x) + 0.3 * x + rng.normal(size=n) * sd
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return as_t(x).unsqueeze(1), as_t(y), as_t(sd)


def regression_truth(x: torch.Tensor) -> torch.Tensor:
    """The noiseless regression function f(x) = sin(2x) + 0.3x shared by both toy regression sets.

    Arguments:
        x: inputs of any shape (e.g. [n, 1] as returned by :func:`toy_regression`).

    Returns:
        f(x), a tensor of the shape of ``x``.

    Example:
        >>> regression_truth(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 1.2093])
    """
    return torch.sin(2.0 * x) + 0.3 * x
