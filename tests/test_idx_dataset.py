"""Lazily read IDX data sets: the same values as the in-memory loader, safe on bad files, usable by workers."""

from __future__ import annotations

import gzip
import struct

import pytest
import torch
from torch.utils.data import DataLoader

from bayesdl.data import IDXImageDataset, PermutationSampler, load_fashion_mnist
from bayesdl.data.fashion_mnist import FILES, find_fashion_mnist
from bayesdl.errors import CorruptDataError, InputError


def _write(path, values, dims, compress=False):
    raw = bytes([0, 0, 8, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims) + bytes(values)
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def _pair(tmp_path, n=6, compress=False, labels=None):
    suffix = ".gz" if compress else ""
    images = _write(tmp_path / f"img{suffix}", [(7 * i) % 256 for i in range(n * 4)], (n, 2, 2), compress)
    labels = _write(
        tmp_path / f"lab{suffix}", labels if labels is not None else [i % 3 for i in range(n)], (n,), compress
    )
    return images, labels


def test_items_are_read_lazily_with_the_in_memory_scaling(tmp_path):
    images, labels = _pair(tmp_path, compress=True)
    with pytest.raises(InputError, match="cache_dir"):
        IDXImageDataset(images, labels)
    data = IDXImageDataset(images, labels, cache_dir=tmp_path / "cache", flatten=False)
    assert len(data) == 6 and data._maps is None  # nothing mapped before the first item
    x, y = data[2]
    assert x.shape == (1, 2, 2) and x.dtype == torch.float32 and int(y) == 2
    assert torch.equal(x.reshape(-1), torch.tensor([(7 * i) % 256 for i in range(8, 12)]).float() / 255.0)
    again = IDXImageDataset(images, labels, cache_dir=tmp_path / "cache")  # the decompressed copy is reused
    assert again.images_path == data.images_path and len(list((tmp_path / "cache").iterdir())) == 2
    with pytest.raises(IndexError):
        data[6]


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:-1]), "promises"),
        (lambda p: p.write_bytes(b"\x01\x00" + p.read_bytes()[2:]), "magic"),
        (lambda p: p.write_bytes(p.read_bytes()[:6]), "header"),
    ],
)
def test_damaged_files_raise_corrupt_data_errors(tmp_path, damage, match):
    images, labels = _pair(tmp_path)
    damage(images)
    with pytest.raises(CorruptDataError, match=match):
        IDXImageDataset(images, labels)


def test_labels_out_of_range_and_mismatched_counts_are_refused(tmp_path):
    images, labels = _pair(tmp_path, labels=[0, 1, 2, 3, 200, 1])
    with pytest.raises(CorruptDataError, match="label 200"):
        IDXImageDataset(images, labels)
    _write(labels, [0] * 5, (5,))
    with pytest.raises(CorruptDataError, match="pair up"):
        IDXImageDataset(images, labels)


def test_fashion_mnist_through_workers_equals_the_in_memory_tensors(tmp_path):
    folder = find_fashion_mnist()  # scripts/setup.sh installs it; a missing copy must fail, not skip
    x, y = load_fashion_mnist("test")
    data = IDXImageDataset(folder / FILES["test"][0], folder / FILES["test"][1], cache_dir=tmp_path)
    subset = torch.utils.data.Subset(data, range(256))
    sampler = PermutationSampler(256, torch.Generator().manual_seed(0))
    batches = list(DataLoader(subset, batch_size=64, sampler=sampler, num_workers=2))
    order = torch.randperm(256, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.cat([b[0] for b in batches]), x[order]) and torch.equal(
        torch.cat([b[1] for b in batches]), y[order]
    )
