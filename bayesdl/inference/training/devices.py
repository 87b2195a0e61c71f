"""Device names: "auto" picks CUDA when present; an unavailable or unknown device is refused up front."""

from __future__ import annotations

import torch

from ...errors import InputError


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Map ``"auto"`` (or None) to CUDA when available, else CPU; check that any other device exists.

    Arguments:
        device: "auto", None, a device name such as "cpu" or "cuda:1", or a ``torch.device``.

    Returns:
        The ``torch.device``. An unknown name, a CUDA device on a build or machine without CUDA, or a CUDA
        index beyond the visible devices raises :class:`~bayesdl.errors.InputError`.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("auto").type in ("cpu", "cuda")
        True
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise InputError(
            f"device must be 'auto', a device name or a torch.device, got {type(device).__name__}"
        )
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise InputError(f"unknown device {device!r}: {err}") from err
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            built = (
                "this torch build has no CUDA support"
                if torch.version.cuda is None
                else "no CUDA device is visible"
            )
            raise InputError(
                f"device={device!r}: CUDA is not available ({built}); use device='cpu' or 'auto'"
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise InputError(
                f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    if resolved.type == "meta":
        raise InputError("device='meta' holds no data and cannot train; use 'cpu', 'cuda' or 'auto'")
    return resolved
