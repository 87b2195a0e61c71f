"""``fashion-dataloader``: the same classifier trained from tensors in memory and from IDX files through a DataLoader.

The in-memory path loads Fashion-MNIST as tensors (:func:`bayesdl.data.load_fashion_mnist`) and hands them to
the trainer; the streaming path reads the same IDX files lazily (:class:`bayesdl.data.IDXImageDataset`, a
memory map, one item at a time) through a ``DataLoader`` with worker processes, so the training set never
sits in memory as a whole. With the same seed, a sampler that draws the trainer's permutation
(:class:`bayesdl.data.PermutationSampler`) and bit-identical pixel values, the two runs see the same batches
in the same order: their per-epoch losses and test metrics should agree exactly, and the experiment reports
the largest difference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Subset

from ..data import load_fashion_mnist
from ..data.fashion_mnist import FILES, find_fashion_mnist
from ..data.idx_dataset import IDXImageDataset
from ..data.loader import PermutationSampler
from ..inference import Trainer
from ..models.nets import MLP
from ..models.supervised import PlainNet
from .registry import RunContext, experiment
from .settings import RunSize


@dataclass(frozen=True)
class FashionDataloaderSettings:
    """Settings of ``fashion-dataloader`` (``--set epochs=10 --set workers=4``).

    Attributes:
        train: training images (the first of the training file).
        test: test images (the first of the test file).
        epochs: training epochs of each path.
        workers: DataLoader worker processes of the streaming path.
        hidden: the MLP's hidden widths (784-hidden-10).
        lr: Adam's learning rate.
        batch_size: the minibatch size.
    """

    train: int = 60000
    test: int = 10000
    epochs: int = 5
    workers: int = 2
    hidden: tuple[int, ...] = (256,)
    lr: float = 1e-3
    batch_size: int = 128

    @classmethod
    def preset(cls, size: RunSize) -> FashionDataloaderSettings:
        """The settings of a smoke, quick or full run."""
        return {"smoke": cls(600, 300, 1), "quick": cls(10000, 2000, 2), "full": cls()}[size]


def _accuracy(model: PlainNet, batches: Any, device: torch.device) -> float:
    correct, total = 0, 0
    model.eval()
    with torch.no_grad():
        for x, y in batches:
            correct += int((model.net(x.to(device)).argmax(-1) == y.to(device)).sum())
            total += len(y)
    return correct / total


def _fit(ctx: RunContext, data: Any, val: Any, label: str) -> tuple[PlainNet, Trainer, float]:
    cfg: FashionDataloaderSettings = ctx.config
    torch.manual_seed(ctx.seed)
    model = PlainNet(MLP(784, list(cfg.hidden), 10))
    trainer = Trainer(
        model,
        lr=cfg.lr,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        device=ctx.device,
        progress=ctx.progress_label(f"training from {label}"),
        seed=ctx.seed,
    )
    start = time.perf_counter()
    trainer.fit(data, val_data=val)
    return model, trainer, time.perf_counter() - start


@experiment(
    "fashion-dataloader",
    "Fashion-MNIST classifier trained from in-memory tensors and from IDX files via a DataLoader with workers",
    config=FashionDataloaderSettings,
)
def run(ctx: RunContext) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    s: FashionDataloaderSettings = ctx.config
    # in memory: the whole training set as one tensor
    x_train, y_train = load_fashion_mnist("train")
    x_test, y_test = load_fashion_mnist("test")
    train, test = (x_train[: s.train], y_train[: s.train]), (x_test[: s.test], y_test[: s.test])
    memory_model, memory_trainer, memory_seconds = _fit(ctx, train, test, "tensors in memory")
    memory_accuracy = _accuracy(memory_model, [test], ctx.device)
    del x_train, y_train, x_test, y_test, train

    # streaming: item by item from memory-mapped IDX files, read by worker processes
    folder = find_fashion_mnist()
    cache = ctx.out_dir / "idx-cache"
    train_set = Subset(
        IDXImageDataset(folder / FILES["train"][0], folder / FILES["train"][1], cache_dir=cache),
        range(s.train),
    )
    test_set = Subset(
        IDXImageDataset(folder / FILES["test"][0], folder / FILES["test"][1], cache_dir=cache), range(s.test)
    )
    # the sampler draws the permutation the in-memory path draws from the same seed; the loader's own
    # generator (worker seeds) is separate, so the global random streams are left to the model
    sampler = PermutationSampler(len(train_set), torch.Generator().manual_seed(ctx.seed))
    common = {"batch_size": s.batch_size, "num_workers": s.workers, "pin_memory": ctx.device.type == "cuda"}
    train_loader = DataLoader(
        train_set, sampler=sampler, generator=torch.Generator().manual_seed(ctx.seed + 1), **common
    )
    test_loader = DataLoader(test_set, **common)
    stream_model, stream_trainer, stream_seconds = _fit(
        ctx, train_loader, test_loader, "IDX files (DataLoader)"
    )
    stream_accuracy = _accuracy(stream_model, test_loader, ctx.device)

    memory_losses, stream_losses = memory_trainer.history.losses, stream_trainer.history.losses
    loss_gap = max(abs(a - b) for a, b in zip(memory_losses, stream_losses))
    val_gap = max(
        abs(a - b) for a, b in zip(memory_trainer.history["val_loss"], stream_trainer.history["val_loss"])
    )
    same_weights = all(
        torch.equal(p, q) for p, q in zip(memory_model.parameters(), stream_model.parameters())
    )

    fig, ax = plt.subplots(figsize=(5, 3))
    epochs = range(1, len(memory_losses) + 1)
    ax.plot(epochs, memory_losses, "o-", label="in-memory tensors")
    ax.plot(epochs, stream_losses, "x--", label=f"IDX files, DataLoader ({s.workers} workers)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training NLL (nats per image)")
    ax.legend()
    ctx.save_figure(fig, "losses", "Training loss per epoch from the two data paths (the curves coincide)")
    ctx.note(
        f"Largest per-epoch training-loss difference between the paths: {loss_gap:.3g} nats; final weights "
        f"{'bit-identical' if same_weights else 'different'}. The streaming path read {s.train} training images "
        "item by item from a memory map of the decompressed IDX file."
    )
    for method, nll_value, acc in (
        ("in-memory tensors", memory_trainer.history["val_loss"][-1], memory_accuracy),
        ("DataLoader from IDX files", stream_trainer.history["val_loss"][-1], stream_accuracy),
    ):
        ctx.report_metric("test NLL", nll_value, "nats/image", "lower", method=method)
        ctx.report_metric("test accuracy", acc, "", "higher", method=method)
    ctx.report_metric(
        "largest training-loss difference between the paths", loss_gap, "nats", "lower", headline=False
    )
    return {
        "test_nll_in_memory": memory_trainer.history["val_loss"][-1],
        "test_nll_dataloader": stream_trainer.history["val_loss"][-1],
        "test_accuracy_in_memory": memory_accuracy,
        "test_accuracy_dataloader": stream_accuracy,
        "max_train_loss_difference": loss_gap,
        "max_test_nll_difference": val_gap,
        "weights_identical": float(same_weights),
        "seconds_in_memory": memory_seconds,
        "seconds_dataloader": stream_seconds,
        "train_images": s.train,
        "epochs": s.epochs,
        "workers": s.workers,
    }
