"""Rational-quadratic spline coupling layer (the coupling NSF; Durkan et al. 2019).

Durkan, Bekasov, Murray & Papamakarios (2019), "Neural Spline Flows", arXiv:1906.04032, sec. 3.2
("RQ-NSF (C)"): a binary mask b splits x into an identity part x_b and a transformed part x_{1-b};
each transformed element goes through a monotone rational-quadratic spline
(:class:`~bayesdl.nn.flows.RationalQuadraticSpline`) whose 3K - 1 parameters are an MLP of x_b
(and of an optional context), z_{1-b} = g(x_{1-b}; theta(x_b)), z_b = x_b. As in RealNVP's affine
coupling (Dinh, Sohl-Dickstein & Bengio 2016, arXiv:1605.08803) both directions are one network pass
and log|det dz/dx| = sum log g'(x_{1-b}).

Unlike :class:`~bayesdl.nn.flows.AffineCoupling`, the MLP sees only the identity elements and outputs
parameters only for the transformed ones (a spline has 3K - 1 of them per element, so a full-width
output would be mostly discarded). Its last layer starts at zero, so the layer starts as the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...errors import InputError
from ...validation import check_tensor
from .base import Transform
from .conditioners import _add_context
from .rq_spline import RationalQuadraticSpline


class RQSplineCoupling(Transform):
    """Coupling layer z_b = x_b, z_{1-b} = g(x_{1-b}; MLP(x_b, context)) for vectors [B, D].

    Arguments:
        mask: a 0/1 tensor [D] with at least one 1 and one 0; ones pass through and condition the rest.
        hidden_sizes: the widths of the parameter MLP (ReLU, at least one layer).
        context_size: width of a conditioning vector added to the first hidden layer (0: none).
        bins: K, the spline's bins.
        bound: B; the splines act on [-B, B] and are the identity outside (so are data outside it).
        min_bin_width, min_bin_height, min_derivative: the floors of the spline
            (see :class:`~bayesdl.nn.flows.RationalQuadraticSpline`).

    Example:
        >>> from bayesdl.nn.flows import alternating_mask
        >>> layer = RQSplineCoupling(alternating_mask(4), [16], bins=4).double()  # float64: steep bins lose ~1e-5 in float32
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(3, 4, generator=g, dtype=torch.float64)
        >>> bool(torch.allclose(layer(x)[0], x, atol=1e-6))  # zero-initialised last layer: the identity
        True
        >>> _ = layer.out.weight.data.copy_(0.3 * torch.randn(layer.out.weight.shape, generator=g, dtype=torch.float64))
        >>> z, log_det = layer(x)
        >>> bool(torch.allclose(layer.inverse(z)[0], x, atol=1e-5))
        True

    References:
        Durkan, Bekasov, Murray & Papamakarios (2019), Neural Spline Flows, arXiv:1906.04032.
    """

    def __init__(
        self,
        mask: torch.Tensor,
        hidden_sizes: Sequence[int],
        context_size: int = 0,
        bins: int = 8,
        bound: float = 5.0,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_derivative: float = 1e-3,
    ) -> None:
        super().__init__()
        check_tensor(mask, "mask", ndim=1)
        if mask.device.type == "meta":
            raise InputError(
                "mask must hold values: build it on the CPU (the split is host-side bookkeeping)"
            )
        mask = mask.cpu()
        if not bool(((mask == 0) | (mask == 1)).all()) or bool((mask == 0).all()) or bool((mask == 1).all()):
            raise InputError(f"mask must hold 0s and 1s with at least one of each, got {mask.tolist()}")
        if len(hidden_sizes) == 0 or any(int(h) < 1 for h in hidden_sizes):
            raise InputError(
                f"hidden_sizes must list at least one positive layer width, got {list(hidden_sizes)}"
            )
        self.spline = RationalQuadraticSpline(bins, bound, min_bin_width, min_bin_height, min_derivative)
        keep = mask.bool()
        device = torch.empty(()).device  # the default device (meta when the model is built on meta)
        self.register_buffer("identity_index", torch.nonzero(keep).flatten().to(device))
        self.register_buffer("transformed_index", torch.nonzero(~keep).flatten().to(device))
        self.features = mask.numel()
        widths = [len(self.identity_index), *(int(h) for h in hidden_sizes)]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(widths[-1], len(self.transformed_index) * self.spline.num_params)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.context = nn.Linear(context_size, widths[1], bias=False) if context_size > 0 else None

    def _split(self, v: torch.Tensor, context: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The transformed elements of v [B, D] and their spline parameters [B, D_t, P]."""
        check_tensor(v, "x", shape=[None, self.features], finite=False)
        h = _add_context(self.hidden[0](v[:, self.identity_index]), self.context, context)
        h = torch.relu(h)
        for layer in self.hidden[1:]:
            h = torch.relu(layer(h))
        params = self.out(h).reshape(v.shape[0], len(self.transformed_index), self.spline.num_params)
        return v[:, self.transformed_index], params

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        free, params = self._split(x, context)
        out, log_slope = self.spline.forward(free, params)
        return x.index_copy(1, self.transformed_index, out), log_slope.sum(1)

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        free, params = self._split(z, context)  # the identity elements of z equal those of x
        out, log_slope = self.spline.inverse(free, params)
        return z.index_copy(1, self.transformed_index, out), log_slope.sum(1)
