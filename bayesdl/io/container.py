"""The container both bayesdl file formats share: a safetensors file with a JSON document in its metadata.

Reading parses JSON and raw little-endian tensor bytes only; a pickle (``torch.save``) file or anything else
is refused before any of its content is interpreted. The header is read and checked on its own first
(:func:`read_header`), so a caller can compare the declared tensors with what it expects before it loads
them or builds anything (:func:`read_tensors`).
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_dumps

from ..errors import CheckpointError
from .atomic import atomic_write_bytes

_METADATA_KEY = "bayesdl"
_MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself applies

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


@dataclass(frozen=True)
class TensorSpec:
    """A tensor as the file declares it: dtype, shape and its byte size in the file."""

    dtype: torch.dtype
    shape: tuple[int, ...]
    nbytes: int


@dataclass(frozen=True)
class FileHeader:
    """The parsed header of a bayesdl file: the bayesdl JSON document and the declared tensors."""

    path: Path
    document: dict[str, Any]
    tensors: dict[str, TensorSpec]


def write(path: str | os.PathLike, tensors: dict[str, torch.Tensor], document: dict[str, Any]) -> Path:
    """Write ``tensors`` and the JSON ``document`` as one safetensors file, atomically."""
    # safetensors refuses views that share memory; store an independent contiguous CPU copy of each.
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    blob = safetensors_dumps(plain, metadata={_METADATA_KEY: json.dumps(document)})
    return atomic_write_bytes(path, blob)


def _loads(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as err:
        raise CheckpointError(f"{what} is nested too deeply") from err
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{what} is not valid JSON: {err}") from err


def read_header(path: str | os.PathLike, expected_format: str | tuple[str, ...]) -> FileHeader:
    """Parse and check the header of a bayesdl file without reading its tensors.

    Raises:
        CheckpointError: for a missing file, a foreign (pickle, torch.save) file, a header that does not
            describe exactly the bytes in the file, or a bayesdl document of another format.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path} is not a bayesdl file (too short)")
        (header_len,) = struct.unpack("<Q", head)
        first = f.read(1)
        if header_len <= 0 or header_len > min(size - 8, _MAX_HEADER_BYTES) or first != b"{":
            raise CheckpointError(
                f"{path} is not a bayesdl safetensors file (it may be a pickle or torch.save file); "
                "bayesdl never unpickles checkpoints, so it refuses to load it"
            )
        raw = first + f.read(header_len - 1)
    header = _loads(raw, f"{path}: the safetensors header")
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: the safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not isinstance(meta.get(_METADATA_KEY), str):
        raise CheckpointError(f"{path} has no valid bayesdl header")
    document = _loads(meta[_METADATA_KEY], f"{path}: the bayesdl header")
    formats = (expected_format,) if isinstance(expected_format, str) else expected_format
    if not isinstance(document, dict) or document.get("format") not in formats:
        found = document.get("format") if isinstance(document, dict) else None
        raise CheckpointError(f"{path} is not a {' or '.join(formats)} file (format {found!r})")
    tensors = {}
    end = 0
    for name, entry in header.items():
        tensors[name] = spec = _tensor_spec(path, name, entry)
        end = max(end, entry["data_offsets"][1])
        if entry["data_offsets"][1] - entry["data_offsets"][0] != spec.nbytes:
            raise CheckpointError(
                f"{path}: tensor {name!r} declares {spec.shape} but holds other byte counts"
            )
    if 8 + header_len + end != size:
        raise CheckpointError(
            f"{path} is truncated or has trailing bytes ({size} bytes, header says {8 + header_len + end})"
        )
    return FileHeader(path, document, tensors)


def _tensor_spec(path: Path, name: str, entry: Any) -> TensorSpec:
    try:
        dtype = _DTYPES[entry["dtype"]]
        shape = tuple(entry["shape"])
        start, stop = entry["data_offsets"]
        if not all(isinstance(d, int) and d >= 0 for d in (*shape, start, stop)) or stop < start:
            raise TypeError
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(
            f"{path}: malformed entry for tensor {name!r} in the safetensors header"
        ) from err
    numel = 1
    for d in shape:
        numel *= d
    return TensorSpec(dtype, shape, numel * torch.empty((), dtype=dtype).element_size())


def read_tensors(header: FileHeader, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Load the tensors of a file whose header :func:`read_header` accepted."""
    try:
        with safe_open(str(header.path), framework="pt", device=str(device)) as f:
            return {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:  # safetensors raises its own error types for malformed files
        raise CheckpointError(f"{header.path} is corrupt or tampered with: {err}") from err
