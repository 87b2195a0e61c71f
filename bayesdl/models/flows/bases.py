"""Base distributions of flows over the flat latent z [B, D]: a standard normal, or a normal whose
mean and scale depend on a context vector (an amortised posterior's first stage, as in Kingma et al.
2016, arXiv:1606.04934, where an encoder gives mu(x), sigma(x) before the IAF steps)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...errors import InputError
from ...validation import check_positive_int

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class StandardNormalBase(nn.Module):
    """N(0, I) over [B, D].

    ``log_prob(z)`` gives nats per example [B]; ``rsample(n, context, generator)`` draws [n, D] on the
    module's device (the context is ignored).

    Arguments:
        features: D >= 1, the latent dimension.

    Example:
        >>> round(StandardNormalBase(2).log_prob(torch.zeros(1, 2)).item(), 4)
        -1.8379
        >>> StandardNormalBase(3).rsample(4, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([4, 3])
    """

    def __init__(self, features: int) -> None:
        super().__init__()
        self.features = check_positive_int(features, "features")
        self.register_buffer("anchor", torch.zeros(()))  # follows the module's device and dtype

    def loc_log_scale(self, n: int, context: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        zero = self.anchor.expand(n, self.features)
        return zero, zero

    def log_prob(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return -(0.5 * z * z + _HALF_LOG_2PI).sum(1)

    def rsample(
        self, n: int, context: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        loc, log_scale = self.loc_log_scale(n, context)
        eps = torch.randn(loc.shape, generator=generator, device=loc.device, dtype=loc.dtype)
        return loc + torch.exp(log_scale) * eps


class ConditionalNormalBase(StandardNormalBase):
    """N(mu(c), diag(sigma(c)^2)) with (mu, log sigma) a linear function of the context c [B, C].

    Starts at N(0, I) (zero-initialised weights). ``log_prob(z, context)`` and
    ``rsample(n, context, generator)`` need a context with one row per latent row.

    Arguments:
        features: D >= 1, the latent dimension.
        context_size: C >= 1, the width of the context vector.

    Example:
        >>> base = ConditionalNormalBase(2, context_size=3)
        >>> base.rsample(4, torch.zeros(4, 3), generator=torch.Generator().manual_seed(0)).shape
        torch.Size([4, 2])
        >>> round(base.log_prob(torch.zeros(1, 2), torch.ones(1, 3)).item(), 4)  # still N(0, I)
        -1.8379

    References:
        Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling (2016), Improved Variational Inference
        with Inverse Autoregressive Flow, arXiv:1606.04934.
    """

    def __init__(self, features: int, context_size: int) -> None:
        super().__init__(features)
        check_positive_int(context_size, "context_size")
        self.net = nn.Linear(context_size, 2 * features)
        nn.init.zeros_(self.net.weight)
        nn.init.zeros_(self.net.bias)

    def loc_log_scale(self, n: int, context: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if context is None or context.shape[0] != n:
            raise InputError(f"a conditional base needs a context with {n} rows")
        loc, log_scale = self.net(context).chunk(2, dim=1)
        return loc, log_scale

    def log_prob(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        loc, log_scale = self.loc_log_scale(z.shape[0], context)
        eps = (z - loc) * torch.exp(-log_scale)
        return -(0.5 * eps * eps + log_scale + _HALF_LOG_2PI).sum(1)
