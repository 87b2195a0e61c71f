"""Binary masks for affine coupling layers (Dinh, Sohl-Dickstein & Bengio 2016, arXiv:1605.08803, sec. 3.4).

A mask entry 1 marks a dimension that is passed through unchanged and conditions the others.
"""

from __future__ import annotations

import torch

from ...errors import InputError
from ...validation import check_choice, check_positive_int


def _check_parity(parity: int) -> int:
    if parity not in (0, 1) or isinstance(parity, bool):
        raise InputError(f"parity must be 0 or 1, got {parity!r}")
    return int(parity)


def alternating_mask(features: int, parity: int = 0) -> torch.Tensor:
    """Mask [D] with ones on even (parity 0) or odd (parity 1) positions.

    Arguments:
        features: D >= 2.
        parity: 0 keeps positions 0, 2, 4, ...; 1 keeps positions 1, 3, 5, ...

    Returns:
        A float mask of 0s and 1s, shape [D].

    Example:
        >>> alternating_mask(4, 1).tolist()
        [0.0, 1.0, 0.0, 1.0]

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), Density estimation using Real NVP, arXiv:1605.08803, sec. 3.4.
    """
    check_positive_int(features, "features", minimum=2)
    return ((torch.arange(features) + _check_parity(parity)) % 2 == 0).float()


def random_mask(features: int, seed: int = 0) -> torch.Tensor:
    """Mask [D] with floor(D/2) ones at positions drawn from ``seed``.

    Arguments:
        features: D >= 2.
        seed: seeds a private generator (the global random state is untouched), so a seed always gives
            the same mask.

    Returns:
        A float mask of 0s and 1s, shape [D], with floor(D/2) ones.

    Example:
        >>> int(random_mask(5, seed=3).sum())
        2
        >>> torch.equal(random_mask(6, seed=1), random_mask(6, seed=1))
        True

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), Density estimation using Real NVP, arXiv:1605.08803, sec. 3.4.
    """
    check_positive_int(features, "features", minimum=2)
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros(features)
    mask[torch.randperm(features, generator=g)[: features // 2]] = 1.0
    return mask


def checkerboard_mask(channels: int, height: int, width: int, parity: int = 0) -> torch.Tensor:
    """Spatial checkerboard mask [C, H, W]: 1 where (h + w + parity) is even, for every channel.

    Arguments:
        channels: C.
        height: H.
        width: W.
        parity: 0 puts a 1 at pixel (0, 0); 1 gives the complementary board.

    Returns:
        A float mask of 0s and 1s, shape [C, H, W], the same in every channel.

    Example:
        >>> checkerboard_mask(1, 2, 2)[0].tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        >>> checkerboard_mask(1, 2, 2, parity=1)[0].tolist()
        [[0.0, 1.0], [1.0, 0.0]]

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), Density estimation using Real NVP, arXiv:1605.08803, sec. 3.4.
    """
    _check_parity(parity)
    h = torch.arange(height)[:, None]
    w = torch.arange(width)[None, :]
    board = ((h + w + parity) % 2 == 0).float()
    return board.expand(channels, height, width).clone()


def channel_mask(channels: int, height: int, width: int, parity: int = 0) -> torch.Tensor:
    """Channel-wise mask [C, H, W]: the first half of the channels (parity 0) or the second half (parity 1).

    Arguments:
        channels: C >= 2.
        height: H.
        width: W.
        parity: 0 marks channels 0..C//2 - 1; 1 marks channels C//2..C-1.

    Returns:
        A float mask of 0s and 1s, shape [C, H, W].

    Example:
        >>> channel_mask(4, 1, 1, 1).flatten().tolist()
        [0.0, 0.0, 1.0, 1.0]
        >>> channel_mask(4, 1, 1, 0).flatten().tolist()
        [1.0, 1.0, 0.0, 0.0]

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), Density estimation using Real NVP, arXiv:1605.08803, sec. 3.4.
    """
    if channels < 2:
        raise InputError(f"a channel mask needs at least 2 channels, got channels={channels}")
    _check_parity(parity)
    mask = torch.zeros(channels, height, width)
    half = channels // 2
    if parity == 0:
        mask[:half] = 1.0
    else:
        mask[half:] = 1.0
    return mask


def make_vector_mask(kind: str, features: int, index: int, seed: int = 0) -> torch.Tensor:
    """The mask of the ``index``-th coupling layer: "alternating" flips parity each layer; "random" draws one per layer.

    Arguments:
        kind: "alternating" (:func:`alternating_mask` with parity ``index % 2``) or "random"
            (:func:`random_mask` seeded with ``seed + index``).
        features: D >= 2.
        index: the position of the coupling layer in the flow, from 0.
        seed: the base seed of the random masks.

    Returns:
        A float mask of 0s and 1s, shape [D].

    Example:
        >>> make_vector_mask("alternating", 4, index=0).tolist(), make_vector_mask("alternating", 4, index=1).tolist()
        ([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0])
        >>> torch.equal(make_vector_mask("random", 6, index=2, seed=5), random_mask(6, seed=7))
        True

    References:
        Dinh, Sohl-Dickstein & Bengio (2016), Density estimation using Real NVP, arXiv:1605.08803, sec. 3.4.
    """
    check_choice(kind, "mask", ("alternating", "random"))
    if kind == "alternating":
        return alternating_mask(features, index % 2)
    return random_mask(features, seed=seed + index)
