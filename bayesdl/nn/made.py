"""Masked autoencoder layers with the degree rule of MADE, shared by the MADE model and by MAF/IAF.

Germain, Gregor, Murray & Larochelle (2015), "MADE: Masked Autoencoder for Distribution
Estimation", arXiv:1502.03509, section 4: every input d gets a degree m(d) in {1..D} (its position
in the ordering); every hidden unit k of layer l gets a degree m^l(k) in {min_{k'} m^{l-1}(k'), ..., D-1};
a hidden connection k' -> k is kept iff m^l(k) >= m^{l-1}(k'), and an output connection k -> d iff
m(d) > m^L(k). Output d then depends only on inputs that come before d in the ordering.

A context vector (for conditional models) is connected to every hidden unit of the first layer, which
keeps the autoregressive property with respect to x.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import InputError
from ..validation import check_positive_int


class MaskedLinear(nn.Linear):
    """A linear layer y = x (W * M)^T + b whose weight is multiplied by a fixed binary mask M [out, in].

    The mask is a buffer, so it moves with ``.to(device)`` and is saved in the state dict.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        self.register_buffer("mask", torch.ones(out_features, in_features))

    def set_mask(self, mask: torch.Tensor) -> None:
        """Replace the mask (shape [out_features, in_features])."""
        if mask.shape != self.mask.shape:
            raise InputError(f"mask must have shape {tuple(self.mask.shape)}, got {tuple(mask.shape)}")
        self.mask.copy_(mask.to(self.mask))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def made_degrees(
    num_inputs: int,
    hidden_sizes: Sequence[int],
    ordering: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """Degrees of the input and hidden units under the MADE rule.

    Arguments:
        num_inputs: D.
        hidden_sizes: the widths of the hidden layers.
        ordering: a permutation giving each input's degree minus one (input d has degree
            ordering[d] + 1); the natural ordering 0..D-1 if omitted.
        generator: if given, hidden degrees are drawn uniformly from the allowed range (as in the
            paper); otherwise they are assigned deterministically in a cycle, which spreads them evenly.

    Returns:
        ``[m0, m1, ..., mL]``: m0 the input degrees [D] in 1..D, then one tensor per hidden layer.
    """
    # Degrees are host-side integer bookkeeping: always computed on the CPU, whatever the default device.
    if ordering is None:
        ordering = torch.arange(num_inputs, device="cpu")
    ordering = ordering.cpu()
    if sorted(ordering.tolist()) != list(range(num_inputs)):
        raise InputError(f"ordering must be a permutation of 0..{num_inputs - 1}")
    degrees = [ordering.long() + 1]
    for size in hidden_sizes:
        low = int(degrees[-1].min()) if num_inputs > 1 else 1
        high = max(num_inputs - 1, low)  # inclusive upper bound D-1
        if generator is not None:
            deg = torch.randint(low, high + 1, (size,), generator=generator, device="cpu")
        else:
            deg = low + torch.arange(size, device="cpu") % (high - low + 1)
        degrees.append(deg)
    return degrees


def made_masks(degrees: list[torch.Tensor], num_params: int = 1) -> list[torch.Tensor]:
    """The masks [out, in] of each layer from the degrees, with ``num_params`` outputs per input.

    Output unit d * ... is laid out param-major: output index p * D + d is parameter p of input d.
    """
    masks = [
        (deg_out[:, None] >= deg_in[None, :]).float() for deg_in, deg_out in zip(degrees[:-1], degrees[1:])
    ]
    inputs = degrees[0]
    out = (inputs[:, None] > degrees[-1][None, :]).float()
    masks.append(out.repeat(num_params, 1))
    return masks


class MADENet(nn.Module):
    """A masked MLP mapping x [B, D] (and an optional context [B, C]) to autoregressive parameters [B, P, D].

    Parameter p of input d depends only on inputs that precede d in the ordering, and on the context.

    Arguments:
        num_inputs: D.
        hidden_sizes: widths of the hidden layers (at least one).
        num_params: P, parameters produced per input (1 for Bernoulli logits, 2 for an affine flow).
        context_size: C, the width of a conditioning vector (0 for none).
        ordering: a permutation of 0..D-1 (input d is the ordering[d]-th to be generated); natural if None.
        activation: the hidden nonlinearity.
        random_degrees: draw hidden degrees at random from ``seed`` (else assign them cyclically).
        seed: seed of the random degrees.

    Example:
        >>> net = MADENet(3, [8], num_params=2)
        >>> net(torch.zeros(4, 3)).shape
        torch.Size([4, 2, 3])

    References:
        Germain et al. (2015), arXiv:1502.03509.
    """

    def __init__(
        self,
        num_inputs: int,
        hidden_sizes: Sequence[int],
        num_params: int = 1,
        context_size: int = 0,
        ordering: torch.Tensor | None = None,
        activation: type[nn.Module] = nn.ReLU,
        random_degrees: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.num_inputs = check_positive_int(num_inputs, "num_inputs")
        self.num_params = check_positive_int(num_params, "num_params")
        if len(hidden_sizes) == 0:
            raise InputError("MADENet needs at least one hidden layer")
        self.hidden_sizes = [check_positive_int(h, "hidden size") for h in hidden_sizes]
        self.context_size = context_size
        self.random_degrees = random_degrees
        sizes = [num_inputs, *self.hidden_sizes]
        self.layers = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = MaskedLinear(sizes[-1], num_params * num_inputs)
        self.context = nn.Linear(context_size, self.hidden_sizes[0], bias=False) if context_size > 0 else None
        self.activation = activation()
        self.register_buffer("ordering", torch.arange(num_inputs))
        # degrees and masks are host-side integer work on the CPU; set_mask copies them into the buffers
        self.set_ordering(
            ordering if ordering is not None else torch.arange(num_inputs, device="cpu"), seed=seed
        )

    def set_ordering(self, ordering: torch.Tensor, seed: int = 0) -> None:
        """Rebuild all masks for a new input ordering (used by order-agnostic training)."""
        generator = None
        if self.random_degrees:
            generator = torch.Generator()
            generator.manual_seed(seed)
        degrees = made_degrees(self.num_inputs, self.hidden_sizes, ordering.cpu(), generator)
        masks = made_masks(degrees, self.num_params)
        for layer, mask in zip([*self.layers, self.output], masks):
            layer.set_mask(mask)
        self.ordering.copy_(ordering.to(self.ordering))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        h = self.layers[0](x)
        if self.context is not None:
            if context is None:
                raise InputError(f"this network is conditional: pass a context of width {self.context_size}")
            h = h + self.context(context)
        h = self.activation(h)
        for layer in self.layers[1:]:
            h = self.activation(layer(h))
        return self.output(h).reshape(*x.shape[:-1], self.num_params, self.num_inputs)
