"""Covariance functions for the GP models: a scaled RBF or Matérn kernel with one lengthscale per input.

With automatic relevance determination (ARD) the kernel has a lengthscale l_d for each input
dimension d, so that marginal-likelihood fitting can switch irrelevant inputs off by growing their
lengthscales (Rasmussen & Williams 2006, section 5.1). The kernels themselves are GPyTorch's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import gpytorch
import torch

from ...validation import check_choice, check_positive_int

Kernel = Literal["rbf", "matern12", "matern32", "matern52"]
KERNELS: tuple[str, ...] = get_args(Kernel)
_MATERN_NU = {"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}


def make_kernel(
    kind: Kernel,
    num_inputs: int,
    ard: bool = True,
    batch_shape: Sequence[int] = (),
) -> gpytorch.kernels.ScaleKernel:
    """Build s^2 k(x, x') with k an RBF or Matérn kernel, optionally with ARD lengthscales.

    * "rbf": k = exp(-r^2 / 2) with r^2 = sum_d (x_d - x'_d)^2 / l_d^2;
    * "matern12", "matern32", "matern52": the Matérn kernels with nu = 1/2, 3/2, 5/2 in the same r.

    Arguments:
        kind: one of "rbf", "matern12", "matern32", "matern52".
        num_inputs: D, the input width (the number of ARD lengthscales).
        ard: one lengthscale per input dimension (True) or one shared lengthscale (False).
        batch_shape: a batch of independent kernels (e.g. ``(C,)`` for C latent functions).

    Returns:
        A ``gpytorch.kernels.ScaleKernel`` wrapping the base kernel.

    Example:
        >>> k = make_kernel("matern52", num_inputs=3)
        >>> tuple(k.base_kernel.lengthscale.shape)
        (1, 3)
        >>> k(torch.zeros(2, 3)).to_dense().shape
        torch.Size([2, 2])

    References:
        Rasmussen & Williams (2006), Gaussian Processes for Machine Learning, chapter 4 (kernels)
        and section 5.1 (ARD).
    """
    check_choice(kind, "kernel", KERNELS)
    check_positive_int(num_inputs, "num_inputs")
    batch = torch.Size(batch_shape)
    ard_dims = num_inputs if ard else None
    if kind == "rbf":
        base = gpytorch.kernels.RBFKernel(ard_num_dims=ard_dims, batch_shape=batch)
    else:
        base = gpytorch.kernels.MaternKernel(nu=_MATERN_NU[kind], ard_num_dims=ard_dims, batch_shape=batch)
    return gpytorch.kernels.ScaleKernel(base, batch_shape=batch)
