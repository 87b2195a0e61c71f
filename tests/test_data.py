import gzip
import struct

import numpy as np
import pytest
import torch

from bayesdl.data import (
    TOY_DENSITIES,
    BatchLoader,
    binarize,
    dequantize,
    heteroscedastic_noise_std,
    load_digits,
    load_fashion_mnist,
    read_idx,
    toy_density,
    toy_regression,
)
from bayesdl.errors import CorruptDataError, DataNotFoundError, InputError


def test_digits_shapes_ranges_and_fixed_split():
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    xa, _ = load_digits("all")
    assert x.shape == (1500, 64) and xt.shape == (297, 64) and xa.shape == (1797, 64)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert set(y.tolist()) == set(range(10))
    # the split is fixed and disjoint: train + test rows are exactly the "all" rows
    assert torch.equal(torch.cat([x, xt]), xa)
    assert torch.equal(load_digits("train")[0], x)


def test_static_binarization_is_seeded_and_binary():
    a, _ = load_digits("test", binarize="static", seed=3)
    b, _ = load_digits("test", binarize="static", seed=3)
    c, _ = load_digits("test", binarize="static", seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(torch.unique(a).tolist()) == {0.0, 1.0}
    grey, _ = load_digits("test")
    # binarised pixels are on only where the grey level is positive, with the right frequency
    assert float(a[grey == 0].max()) == 0.0
    assert abs(float(a.mean()) - float(grey.mean())) < 0.02


def test_dynamic_binarization_redraws_per_batch():
    x, _ = load_digits("test", binarize="dynamic")
    assert torch.equal(x, load_digits("test")[0])  # grey levels are returned; the loader redraws
    loader = BatchLoader(x, batch_size=297, shuffle=False, binarize="dynamic")
    first, second = next(iter(loader)), next(iter(loader))
    assert set(torch.unique(first).tolist()) <= {0.0, 1.0}
    assert not torch.equal(first, second)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(InputError, match="split"):
        load_digits("validation")
    with pytest.raises(InputError, match="binarize"):
        load_digits("train", binarize="sometimes")
    with pytest.raises(InputError, match="toy density"):
        toy_density("spiral", 10)
    with pytest.raises(InputError, match="n must be"):
        toy_density("rings", 0)
    with pytest.raises(InputError, match="n must be"):
        toy_regression("gap", -5)
    with pytest.raises(InputError, match=r"\[0.0, 1.0\]"):
        binarize(torch.tensor([0.5, 1.5]))
    with pytest.raises(InputError, match="NaN"):
        binarize(torch.tensor([0.5, float("nan")]))


@pytest.mark.parametrize("name", TOY_DENSITIES)
def test_toy_densities_are_seeded_2d_and_bounded(name):
    a, b = toy_density(name, 500, seed=1), toy_density(name, 500, seed=1)
    assert a.shape == (500, 2) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, toy_density(name, 500, seed=2))
    assert float(a.abs().max()) < 6.0 and float(a.std()) > 0.3


def test_toy_regression_returns_true_noise():
    x, y, sd = toy_regression("heteroscedastic", 4000, seed=0)
    assert x.shape == (4000, 1) and y.shape == (4000,) and sd.shape == (4000,)
    assert torch.allclose(sd, heteroscedastic_noise_std(x.squeeze(1)))
    resid = y - (torch.sin(2 * x.squeeze(1)) + 0.3 * x.squeeze(1))
    # standardised residuals have unit variance when the returned sd is the true one
    assert abs(float((resid / sd).std()) - 1.0) < 0.05
    xg, _, _ = toy_regression("gap", 1000, seed=0)
    assert float(xg.abs().min()) >= 1.0 and float(xg.abs().max()) <= 3.0


def test_dequantize_maps_levels_into_their_bins():
    levels = torch.tensor([0, 1, 255])
    u = dequantize(levels, generator=torch.Generator().manual_seed(0))
    assert torch.all(u >= levels / 256) and torch.all(u < (levels + 1) / 256)
    with pytest.raises(InputError):
        dequantize(torch.tensor([256]))


def _write_idx(path, array, magic_dtype=0x08):
    header = bytes([0, 0, magic_dtype, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _fake_fashion(folder, n=5):
    rng = np.random.default_rng(0)
    for prefix, count in (("train", n), ("t10k", n - 2)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 28, 28)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, (count,)))


def test_fashion_mnist_reads_idx_from_root(tmp_path):
    _fake_fashion(tmp_path)
    x, y = load_fashion_mnist("train", root=tmp_path)
    assert x.shape == (5, 784) and y.shape == (5,) and 0 <= float(x.min()) and float(x.max()) <= 1
    xi, _ = load_fashion_mnist("test", root=tmp_path, flatten=False, binarize="static")
    assert xi.shape == (3, 1, 28, 28) and set(torch.unique(xi).tolist()) <= {0.0, 1.0}


def test_fashion_mnist_env_variable_is_searched(tmp_path, monkeypatch):
    _fake_fashion(tmp_path)
    monkeypatch.setenv("BAYESDL_DATA", str(tmp_path))
    monkeypatch.setattr("bayesdl.data.fashion_mnist.DEBIAN_DIR", tmp_path / "absent")
    assert load_fashion_mnist("train")[0].shape == (5, 784)


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("BAYESDL_DATA", raising=False)
    monkeypatch.setattr("bayesdl.data.fashion_mnist.DEBIAN_DIR", tmp_path / "absent")
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train", root=tmp_path)


def test_truncated_and_corrupt_idx_files_are_refused(tmp_path):
    _fake_fashion(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    with gzip.open(path, "wb") as f:
        f.write(raw[:-100])  # valid gzip, too little data for the header's shape
    with pytest.raises(CorruptDataError, match="truncated"):
        load_fashion_mnist("train", root=tmp_path)
    path.write_bytes(path.read_bytes()[:40])  # a cut-off gzip stream
    with pytest.raises(CorruptDataError):
        read_idx(path)
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(CorruptDataError, match="magic"):
        read_idx(bad)


def test_batch_loader_covers_every_example_once_per_epoch():
    x = torch.arange(23.0).unsqueeze(1)
    y = torch.arange(23)
    loader = BatchLoader((x, y), batch_size=5, generator=torch.Generator().manual_seed(1))
    batches = list(loader)
    assert len(batches) == len(loader) == 5
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23))
    assert all(torch.equal(bx.squeeze(1).long(), by) for bx, by in batches)
    assert len(list(BatchLoader(x, batch_size=5, drop_last=True))) == 4
    with pytest.raises(InputError, match="first dimension"):
        BatchLoader((x, y[:-1]))
    with pytest.raises(InputError, match="empty"):
        BatchLoader(torch.zeros(0, 3))


def test_dequantize_rejects_fractional_levels_with_input_error():
    from bayesdl.data import dequantize
    from bayesdl.errors import InputError

    with pytest.raises(InputError, match="whole numbers"):
        dequantize(torch.tensor([0.5, 1.0]), num_levels=4)


def test_fashion_mnist_refuses_labels_outside_0_to_9(tmp_path):
    _fake_fashion(tmp_path)
    for bad in (10, 200, 255):
        _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, bad, 3, 4]))
        with pytest.raises(CorruptDataError, match=rf"labels outside 0\.\.9 \(first: {bad} at index 2\)"):
            load_fashion_mnist("train", root=tmp_path)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 9, 3, 4]))
    assert load_fashion_mnist("train", root=tmp_path)[1].tolist() == [0, 1, 9, 3, 4]


@pytest.mark.parametrize("shape", [(5, 5, 3), (5, 28, 27), (5, 784), (5, 28, 28, 1)])
def test_fashion_mnist_refuses_images_that_are_not_28x28(tmp_path, shape):
    _fake_fashion(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros(shape))
    with pytest.raises(CorruptDataError, match="28x28"):
        load_fashion_mnist("train", root=tmp_path)


def test_an_explicit_root_is_the_only_folder_read(tmp_path, monkeypatch):
    fallback, chosen = tmp_path / "system", tmp_path / "mine"
    fallback.mkdir()
    chosen.mkdir()
    _fake_fashion(fallback)  # a complete copy where the search would find it
    monkeypatch.setenv("BAYESDL_DATA", str(fallback))
    monkeypatch.setattr("bayesdl.data.fashion_mnist.DEBIAN_DIR", fallback)
    assert load_fashion_mnist("train")[0].shape == (5, 784)  # without root, the search finds it
    _fake_fashion(chosen, n=4)
    (chosen / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match=r"mine.*lacks t10k-labels-idx1-ubyte\.gz"):
        load_fashion_mnist("train", root=chosen)
    with pytest.raises(DataNotFoundError, match="lacks"):
        load_fashion_mnist("train", root=tmp_path / "absent")
