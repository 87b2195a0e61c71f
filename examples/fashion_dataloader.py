"""Train the same Fashion-MNIST classifier from in-memory tensors and from the IDX files through a DataLoader.

The in-memory path loads the images as one tensor and hands it to the Trainer. The streaming path reads the same
IDX files lazily (``IDXImageDataset``: a memory map, one image at a time) through a ``torch.utils.data.DataLoader``
with worker processes, so the training set never sits in memory as a whole. The DataLoader's sampler draws the
permutation the Trainer draws for in-memory data from the same seed, so both paths see the same batches in the
same order: their losses, test NLL and final weights should agree exactly.

    python examples/fashion_dataloader.py                    # 60000 images, 5 epochs, 2 workers
    python examples/fashion_dataloader.py --epochs 2 --num-train 10000 --workers 4

Needs Fashion-MNIST on disk (Debian's ``dataset-fashion-mnist`` or ``$BAYESDL_DATA``). Prints the per-epoch losses
of both paths, their largest difference and the test accuracy, and writes ``losses.png``.
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _common import make_parser, parse_args, save_figure  # noqa: E402
from torch.utils.data import DataLoader, Subset  # noqa: E402

from bayesdl.data import load_fashion_mnist  # noqa: E402
from bayesdl.data.fashion_mnist import FILES, find_fashion_mnist  # noqa: E402
from bayesdl.data.idx_dataset import IDXImageDataset  # noqa: E402
from bayesdl.data.loader import PermutationSampler  # noqa: E402
from bayesdl.inference import Trainer  # noqa: E402
from bayesdl.models.nets import MLP  # noqa: E402
from bayesdl.models.supervised import PlainNet  # noqa: E402


def train(data, val, args) -> tuple[PlainNet, Trainer, float]:
    """One PlainNet MLP(784, hidden, 10), trained by the shared Trainer on ``data`` (tensors or a DataLoader)."""
    torch.manual_seed(args.seed)  # the same initial weights for both paths
    model = PlainNet(MLP(784, args.hidden, 10))
    trainer = Trainer(
        model, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, device=args.device, seed=args.seed
    )
    start = time.perf_counter()
    trainer.fit(data, val_data=val)
    return model, trainer, time.perf_counter() - start


def accuracy(model: PlainNet, batches, device: str) -> float:
    correct = total = 0
    model.eval()
    with torch.no_grad():
        for x, y in batches:
            correct += int((model.net(x.to(device)).argmax(-1) == y.to(device)).sum())
            total += len(y)
    return correct / total


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = make_parser("fashion_dataloader", __doc__)
    parser.add_argument("--num-train", type=int, default=60000)
    parser.add_argument("--num-test", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    args = parse_args(parser, argv, smoke={"num_train": 600, "num_test": 300, "epochs": 1, "hidden": [32]})

    x_train, y_train = load_fashion_mnist("train")
    x_test, y_test = load_fashion_mnist("test")
    memory_test = (x_test[: args.num_test], y_test[: args.num_test])
    memory_model, memory_trainer, memory_seconds = train(
        (x_train[: args.num_train], y_train[: args.num_train]), memory_test, args
    )
    memory_accuracy = accuracy(memory_model, [memory_test], args.device)
    del x_train, y_train

    folder = find_fashion_mnist()
    cache = args.out / "idx-cache"
    train_set = Subset(
        IDXImageDataset(folder / FILES["train"][0], folder / FILES["train"][1], cache_dir=cache),
        range(args.num_train),
    )
    test_set = Subset(
        IDXImageDataset(folder / FILES["test"][0], folder / FILES["test"][1], cache_dir=cache),
        range(args.num_test),
    )
    sampler = PermutationSampler(
        len(train_set), torch.Generator().manual_seed(args.seed)
    )  # the Trainer's permutation
    common = {
        "batch_size": args.batch_size,
        "num_workers": args.workers,
        "pin_memory": args.device.startswith("cuda"),
    }
    train_loader = DataLoader(
        train_set, sampler=sampler, generator=torch.Generator().manual_seed(args.seed + 1), **common
    )
    test_loader = DataLoader(test_set, **common)
    stream_model, stream_trainer, stream_seconds = train(train_loader, test_loader, args)
    stream_accuracy = accuracy(stream_model, test_loader, args.device)

    memory_losses, stream_losses = memory_trainer.history.losses, stream_trainer.history.losses
    gap = max(abs(a - b) for a, b in zip(memory_losses, stream_losses))
    identical = all(torch.equal(p, q) for p, q in zip(memory_model.parameters(), stream_model.parameters()))
    for epoch, (a, b) in enumerate(zip(memory_losses, stream_losses), start=1):
        print(f"epoch {epoch}: training NLL in memory {a:.5f}, through the DataLoader {b:.5f}")
    print(f"largest difference {gap:.3g} nats; final weights {'bit-identical' if identical else 'different'}")
    print(
        f"test accuracy {memory_accuracy:.4f} / {stream_accuracy:.4f}; fit {memory_seconds:.1f} s / {stream_seconds:.1f} s"
    )

    fig, ax = plt.subplots(figsize=(5, 3))
    epochs = range(1, len(memory_losses) + 1)
    ax.plot(epochs, memory_losses, "o-", label="in-memory tensors")
    ax.plot(epochs, stream_losses, "x--", label=f"IDX files, DataLoader ({args.workers} workers)")
    ax.set(xlabel="epoch", ylabel="training NLL (nats per image)")
    ax.legend()
    save_figure(fig, args, "losses")
    return {
        "max_train_loss_difference": gap,
        "weights_identical": float(identical),
        "test_accuracy_in_memory": memory_accuracy,
        "test_accuracy_dataloader": stream_accuracy,
    }


if __name__ == "__main__":
    main()
