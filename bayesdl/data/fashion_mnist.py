"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747) read from its IDX .gz files.

bayesdl never downloads data. The files are looked for in ``root``, then in ``$BAYESDL_DATA``
(and its ``fashion-mnist`` subfolder), then where Debian's ``dataset-fashion-mnist`` package installs
them (/usr/share/datasets/fashion-mnist).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import CorruptDataError, DataNotFoundError
from ..validation import check_choice
from .binarize import apply_binarize_mode

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IDX_DTYPE = {0x08: np.uint8}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array, checking its header and size.

    Raises:
        CorruptDataError: if the magic number is wrong, the dtype is unsupported, or the file is
            truncated or longer than its header says.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise CorruptDataError(f"cannot read IDX file {path}: {err} (the file is corrupt or truncated)") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise CorruptDataError(f"{path} is not an IDX file (bad magic number)")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in _IDX_DTYPE:
        raise CorruptDataError(f"{path}: unsupported IDX dtype code 0x{dtype_code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataError(f"{path} is truncated inside its header")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise CorruptDataError(
            f"{path} holds {len(raw) - header} bytes of data but its header promises {expected} "
            f"(shape {dims}); the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=_IDX_DTYPE[dtype_code], offset=header).reshape(dims)


def find_fashion_mnist(root: str | os.PathLike | None = None) -> Path:
    """Return the first folder that holds all four Fashion-MNIST IDX files, or raise DataNotFoundError."""
    candidates: list[Path] = []
    if root is not None:
        candidates.append(Path(root))
    env = os.environ.get("BAYESDL_DATA")
    if env:
        candidates += [Path(env), Path(env) / "fashion-mnist"]
    candidates.append(DEBIAN_DIR)
    needed = [name for pair in FILES.values() for name in pair]
    for folder in candidates:
        if all((folder / name).is_file() for name in needed):
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise DataNotFoundError(
        "Fashion-MNIST IDX files not found (looked in: " + looked + "). Install them with "
        "'apt-get install dataset-fashion-mnist' (Debian), or put " + ", ".join(needed) +
        " in a folder and pass root=... or set BAYESDL_DATA."
    )


def load_fashion_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    binarize: str | None = None,
    flatten: bool = True,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load Fashion-MNIST as float32 images in [0, 1] and int64 labels.

    Arguments:
        split: "train" (60000 images) or "test" (10000).
        root: a folder with the four IDX .gz files; see the module docstring for the search order.
        binarize: None, "static" (one seeded Bernoulli draw) or "dynamic" (grey levels, redrawn per
            batch by :class:`bayesdl.data.BatchLoader`).
        flatten: return [N, 784] if True, else [N, 1, 28, 28].
        seed: the seed of the static binarisation.

    Returns:
        ``(x, y)``.
    """
    levels, labels = load_fashion_mnist_levels(split, root)
    x = levels.float() / 255.0
    x = apply_binarize_mode(x, binarize, seed)
    return (x.reshape(len(x), -1) if flatten else x.unsqueeze(1)), labels


def load_fashion_mnist_levels(split: str = "train", root: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the raw uint8 levels as int64 [N, 28, 28] and the int64 labels."""
    check_choice(split, "split", tuple(FILES))
    folder = find_fashion_mnist(root)
    image_file, label_file = FILES[split]
    images = read_idx(folder / image_file)
    labels = read_idx(folder / label_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise CorruptDataError(f"Fashion-MNIST files in {folder} have inconsistent shapes {images.shape}, {labels.shape}")
    return torch.from_numpy(images.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))
