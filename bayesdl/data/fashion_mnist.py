"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747) read from its IDX .gz files.

bayesdl never downloads data. An explicit ``root`` is the only folder read. Without one, the files are
looked for in ``$BAYESDL_DATA`` (and its ``fashion-mnist`` subfolder), then where Debian's
``dataset-fashion-mnist`` package installs them (/usr/share/datasets/fashion-mnist).

The files are checked as well as read: images must be 28x28 and labels in 0..9, with one label per image.
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
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array, checking its header and size.

    The IDX format (LeCun et al.'s MNIST distribution format) is a big-endian header (two zero bytes, a
    dtype code, the number of dimensions and one uint32 per dimension) followed by the raw values.

    Arguments:
        path: the file; a name ending in ".gz" is read through gzip.

    Returns:
        A read-only numpy array with the dtype and shape that the header declares (uint8 for Fashion-MNIST).

    Example:
        >>> import tempfile, struct
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     good, bad = Path(tmp) / "ok.idx", Path(tmp) / "cut.idx"
        ...     _ = good.write_bytes(bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3) + bytes(range(6)))
        ...     _ = bad.write_bytes(good.read_bytes()[:-1])
        ...     print(read_idx(good).tolist())
        ...     try:
        ...         read_idx(bad)
        ...     except CorruptDataError as err:
        ...         print("CorruptDataError")
        [[0, 1, 2], [3, 4, 5]]
        CorruptDataError

    Raises:
        CorruptDataError: if the magic number is wrong, the dtype is unsupported, or the file is
            truncated or longer than its header says.

    References:
        LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document recognition,
        Proc. IEEE 86(11) (the MNIST files, whose IDX format Fashion-MNIST reuses).
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise CorruptDataError(
            f"cannot read IDX file {path}: {err} (the file is corrupt or truncated)"
        ) from err
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
    """Return the folder that holds all four Fashion-MNIST IDX files, or raise DataNotFoundError.

    With ``root``, that folder and no other. Without it, the first of ``$BAYESDL_DATA``,
    ``$BAYESDL_DATA/fashion-mnist`` and /usr/share/datasets/fashion-mnist that holds them. Nothing is
    downloaded.

    Arguments:
        root: the folder with the files; when given, nothing else is searched.

    Returns:
        The folder, a :class:`pathlib.Path`.

    Raises:
        DataNotFoundError: if ``root`` lacks a file (the message names it), or no candidate holds all four
            files; the message lists the folders searched and how to install the data.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     for name in [*FILES["train"], *FILES["test"]]:
        ...         (Path(tmp) / name).touch()
        ...     print(find_fashion_mnist(root=tmp) == Path(tmp))
        True
    """
    needed = [name for pair in FILES.values() for name in pair]
    if root is not None:
        folder = Path(root)
        missing = [name for name in needed if not (folder / name).is_file()]
        if missing:
            raise DataNotFoundError(
                f"Fashion-MNIST: root={str(folder)!r} lacks {', '.join(missing)}; an explicit root is the only "
                "folder read. Put the four IDX .gz files there, or pass root=None to search $BAYESDL_DATA and "
                "/usr/share/datasets/fashion-mnist ('apt-get install dataset-fashion-mnist' on Debian)."
            )
        return folder
    candidates: list[Path] = []
    env = os.environ.get("BAYESDL_DATA")
    if env:
        candidates += [Path(env), Path(env) / "fashion-mnist"]
    candidates.append(DEBIAN_DIR)
    for folder in candidates:
        if all((folder / name).is_file() for name in needed):
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise DataNotFoundError(
        "Fashion-MNIST IDX files not found (looked in: " + looked + "). Install them with "
        "'apt-get install dataset-fashion-mnist' (Debian), or put "
        + ", ".join(needed)
        + " in a folder and pass root=... or set BAYESDL_DATA."
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
        ``(x, y)``: x float32 [N, 784] (or [N, 1, 28, 28]) in [0, 1] (0/1 when ``binarize="static"``)
        and y int64 [N] class labels in {0..9}.

    Raises:
        DataNotFoundError: if the IDX files are not found (see :func:`find_fashion_mnist`).
        CorruptDataError: if a file is truncated or malformed.

    Example:
        A tiny stand-in for the real files (two 28x28 test images), written to a temporary folder:

        >>> import gzip, struct, tempfile
        >>> def write_idx(path, array):
        ...     header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
        ...     with gzip.open(path, "wb") as f:
        ...         _ = f.write(header + array.tobytes())
        >>> tmp = tempfile.TemporaryDirectory()
        >>> for split, n in (("train", 3), ("test", 2)):
        ...     write_idx(Path(tmp.name) / FILES[split][0], np.full((n, 28, 28), 255, dtype=np.uint8))
        ...     write_idx(Path(tmp.name) / FILES[split][1], np.arange(n, dtype=np.uint8))
        >>> x, y = load_fashion_mnist("test", root=tmp.name, flatten=False)
        >>> tuple(x.shape), float(x.max()), y.tolist()
        ((2, 1, 28, 28), 1.0, [0, 1])
        >>> tmp.cleanup()

    References:
        Xiao, Rasul & Vollgraf (2017), Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
        Algorithms, arXiv:1708.07747.
    """
    levels, labels = load_fashion_mnist_levels(split, root)
    x = levels.float() / 255.0
    x = apply_binarize_mode(x, binarize, seed)
    return (x.reshape(len(x), -1) if flatten else x.unsqueeze(1)), labels


def load_fashion_mnist_levels(
    split: str = "train", root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load Fashion-MNIST as its raw 8-bit grey levels, for models of discrete pixels.

    Arguments:
        split: "train" (60000 images) or "test" (10000); anything else raises
            :class:`bayesdl.errors.InputError`.
        root: a folder with the four IDX .gz files; see :func:`find_fashion_mnist` for the search order.

    Returns:
        ``(levels, y)``: levels int64 [N, 28, 28] in {0..255} and labels int64 [N] in {0..9}.

    Raises:
        DataNotFoundError: if the IDX files are not found.
        CorruptDataError: if a file is malformed, the images are not 28x28, a label is outside 0..9, or
            images and labels disagree in number.

    Example:
        >>> try:
        ...     load_fashion_mnist_levels("validation")
        ... except ValueError as err:
        ...     print(type(err).__name__)
        InputError

    References:
        Xiao, Rasul & Vollgraf (2017), Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
        Algorithms, arXiv:1708.07747.
    """
    check_choice(split, "split", tuple(FILES))
    folder = find_fashion_mnist(root)
    image_file, label_file = FILES[split]
    images = read_idx(folder / image_file)
    labels = read_idx(folder / label_file)
    if images.ndim != 3 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise CorruptDataError(
            f"{folder / image_file} holds images of shape {images.shape[1:]}; Fashion-MNIST "
            f"images are {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}"
        )
    if labels.ndim != 1 or len(images) != len(labels):
        raise CorruptDataError(
            f"Fashion-MNIST files in {folder} have inconsistent shapes {images.shape}, {labels.shape}"
        )
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        bad = np.flatnonzero(labels >= NUM_CLASSES)
        raise CorruptDataError(
            f"{folder / label_file} holds {len(bad)} labels outside 0..{NUM_CLASSES - 1} "
            f"(first: {int(labels[bad[0]])} at index {int(bad[0])})"
        )
    return torch.from_numpy(images.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))
