"""Image data sets read lazily from IDX files: one item at a time from disk, never the whole set in memory.

The IDX format (the MNIST and Fashion-MNIST distribution format) is a big-endian header (two zero bytes,
a dtype code, the number of dimensions, one uint32 per dimension) followed by the raw values, so item i
sits at a known byte offset. :class:`IDXImageDataset` memory-maps an images file and a labels file and
reads only the items asked for; the operating system pages them in and out. Compressed ``.gz`` files
cannot be read at an offset, so they are first decompressed, in 1 MiB chunks, into ``cache_dir``
(once: a later run finds the file there). Each DataLoader worker opens its own map.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import CorruptDataError, InputError

_CHUNK = 1 << 20


def _header(path: Path) -> tuple[int, tuple[int, ...]]:
    """The data offset and the shape that an uncompressed IDX file declares, checked against its size."""
    with open(path, "rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[0] != 0 or head[1] != 0:
            raise CorruptDataError(f"{path} is not an IDX file (bad magic number)")
        if head[2] != 0x08:
            raise CorruptDataError(
                f"{path}: unsupported IDX dtype code 0x{head[2]:02x} (only unsigned bytes)"
            )
        ndim = head[3]
        raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise CorruptDataError(f"{path} is truncated inside its header")
    dims = struct.unpack(">" + "I" * ndim, raw_dims)
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(dims, dtype=np.int64))
    size = path.stat().st_size
    if size != expected:
        raise CorruptDataError(f"{path} has {size} bytes but its header (shape {dims}) promises {expected}")
    return offset, dims


def _uncompressed(path: Path, cache_dir: str | os.PathLike | None) -> Path:
    """``path`` itself, or for a ``.gz`` file its decompressed copy in ``cache_dir`` (written once, atomically)."""
    if path.suffix != ".gz":
        return path
    if cache_dir is None:
        raise InputError(
            f"{path} is compressed: pass cache_dir= (a folder for its decompressed copy) to read it lazily"
        )
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = Path(cache_dir) / f"{path.stem}.{key}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(tmp, target)
    except (OSError, EOFError, zlib.error) as err:
        Path(tmp).unlink(missing_ok=True)
        raise CorruptDataError(f"cannot decompress {path}: {err}") from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class IDXImageDataset(Dataset):
    """A map-style Dataset of (image, label) pairs read lazily from an IDX images file and an IDX labels file.

    Item i is ``(x_i, y_i)``: x_i the float32 grey levels divided by 255 (in [0, 1]), flattened to
    [H * W] or shaped [1, H, W], and y_i an int64 label. Nothing but the two headers is read at
    construction; every item is read from a memory map when asked for, so the data set may be larger
    than memory, and a ``DataLoader`` with workers reads in parallel. The values are bit-identical to
    :func:`bayesdl.data.load_fashion_mnist` for the same files.

    Arguments:
        images: an IDX file of uint8 images [N, H, W] (``.gz`` allowed, see ``cache_dir``).
        labels: an IDX file of uint8 labels [N].
        cache_dir: a folder for decompressed copies of ``.gz`` files (required for them).
        flatten: items [H * W] if True, else [1, H, W].
        num_classes: labels must lie in {0, ..., num_classes - 1}; checked once over the labels file (a
            small file: one byte per item).

    Example:
        >>> import struct, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = Path(tmp.name)
        >>> _ = (root / "img").write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 2, 2) + bytes([0, 255] * 4))
        >>> _ = (root / "lab").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes([3, 1]))
        >>> data = IDXImageDataset(root / "img", root / "lab")
        >>> len(data), data[1][0].tolist(), int(data[1][1])
        (2, [0.0, 1.0, 0.0, 1.0], 1)
        >>> tmp.cleanup()

    References:
        LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document recognition,
        Proc. IEEE 86(11) (the IDX format); Xiao, Rasul & Vollgraf (2017), Fashion-MNIST, arXiv:1708.07747.
    """

    def __init__(
        self,
        images: str | os.PathLike,
        labels: str | os.PathLike,
        cache_dir: str | os.PathLike | None = None,
        flatten: bool = True,
        num_classes: int = 10,
    ) -> None:
        for name, value in (("images", images), ("labels", labels)):
            if not Path(value).is_file():
                raise InputError(f"{name}={str(value)!r} is not a file")
        self.images_path = _uncompressed(Path(images), cache_dir)
        self.labels_path = _uncompressed(Path(labels), cache_dir)
        self._image_offset, image_dims = _header(self.images_path)
        self._label_offset, label_dims = _header(self.labels_path)
        if len(image_dims) != 3 or len(label_dims) != 1 or image_dims[0] != label_dims[0]:
            raise CorruptDataError(
                f"images {image_dims} and labels {label_dims} do not pair up as [N, H, W] and [N]"
            )
        self.num_examples, self.height, self.width = image_dims
        self.flatten = flatten
        labels_map = np.memmap(
            self.labels_path, dtype=np.uint8, mode="r", offset=self._label_offset, shape=label_dims
        )
        top = int(labels_map.max()) if len(labels_map) else 0
        if top >= num_classes:
            raise CorruptDataError(f"{labels}: label {top} is outside {{0, ..., {num_classes - 1}}}")
        del labels_map
        self._maps: tuple[np.memmap, np.memmap] | None = None

    def __len__(self) -> int:
        return self.num_examples

    def _open(self) -> tuple[np.memmap, np.memmap]:
        if self._maps is None:  # opened in each process (DataLoader workers) on first use
            shape = (self.num_examples, self.height, self.width)
            self._maps = (
                np.memmap(self.images_path, dtype=np.uint8, mode="r", offset=self._image_offset, shape=shape),
                np.memmap(
                    self.labels_path,
                    dtype=np.uint8,
                    mode="r",
                    offset=self._label_offset,
                    shape=(self.num_examples,),
                ),
            )
        return self._maps

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -self.num_examples <= index < self.num_examples:
            raise IndexError(f"index {index} is out of range for {self.num_examples} items")
        images, labels = self._open()
        x = torch.from_numpy(np.array(images[index], dtype=np.int64)).float() / 255.0
        return (x.reshape(-1) if self.flatten else x.unsqueeze(0)), torch.tensor(
            int(labels[index]), dtype=torch.int64
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_maps"] = None  # workers map the files themselves
        return state
