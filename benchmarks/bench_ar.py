"""Benchmark: bayesdl's MADE against nflows' MADE network, and PixelCNN sampling throughput.

Task 1: a single-mask MADE with one hidden layer of 500 ReLU units and natural ordering on statically
binarised Fashion-MNIST, bayesdl's ``MADE`` vs ``nflows.transforms.made.MADE(784, 500, num_blocks=0,
use_residual_blocks=False)`` (input layer, ReLU, output layer) used as Bernoulli logits. (Pyro's
``AutoRegressiveNN`` refuses hidden layers narrower than the input, so it cannot build [500] for 784.)
Both are trained in this process with Adam (lr 1e-3), batch 100 and the same batch order: bayesdl's
MADE through its own ``Trainer`` (so the trainer's costs count, including its one check of the
training data at the start of ``fit``), nflows' network by a hand-written loop run from a trainer
callback, epochs interleaved with who goes first alternating. bayesdl's Trainer runs Adam fused (one
kernel over all parameters; the same update up to rounding), while ``torch.optim.Adam`` as an nflows
user writes it runs the multi-tensor version. So nflows is timed twice: as it is usually written, and
with ``fused=True``, which shows how much of the difference is the optimizer step and how much the
model's forward and backward passes. Epoch times are CPU seconds of this
thread (``time.thread_time``), which waiting for a shared core does not inflate; we report the
median ms per epoch and the exact test NLL (nats per image).

Task 2: images per second of ``PixelCNN.sample`` at batch 64 (28x28 binary images). It computes each
pixel for the whole batch at once: the vertical stack once per row (on the R rows above it), then per
pixel only the horizontal stack on the current row. The reference is the same model recomputed on the
full image for every pixel (the naive ancestral sampler; its cost per pixel is constant, so it is timed
on the first image row and multiplied by the 28 rows).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_ar.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from table import print_rows  # benchmarks/table.py

from bayesdl.data import load_fashion_mnist
from bayesdl.inference import Callback, Trainer
from bayesdl.models.autoregressive import MADE, PixelCNN

BATCH, SEED = 100, 0
PEER, PEER_FUSED = "nflows MADE, torch.optim.Adam", "nflows MADE, Adam(fused=True)"


def made_rows(quick: bool) -> list[dict]:
    from nflows.transforms.made import MADE as NflowsMADE

    num_train, num_test, epochs = (5000, 2000, 3) if quick else (60000, 10000, 5)
    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    x_train, x_test = x_train[:num_train], x_test[:num_test]
    d = x_train.shape[1]

    torch.manual_seed(0)
    ours = MADE(d, [500], num_masks=1, natural_ordering=True)
    peers: dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]] = {}
    for name, fused in ((PEER, False), (PEER_FUSED, True)):
        torch.manual_seed(0)
        net = NflowsMADE(d, 500, num_blocks=0, use_residual_blocks=False)
        peers[name] = (net, torch.optim.Adam(net.parameters(), lr=1e-3, fused=fused))

    def peer_loss(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(net(x), x, reduction="none").sum(-1).mean()

    times: dict[str, list[float]] = {"bayesdl MADE": [], PEER: [], PEER_FUSED: []}

    class PeerEpochs(Callback):
        """Runs one epoch of each nflows set-up next to each Trainer epoch (before it on odd epochs, after
        it on even ones, and the two peers in alternating order), on the trainer's own batch order, and
        times all of them in CPU seconds of this thread."""

        def __init__(self) -> None:
            self.order_rng = torch.Generator().manual_seed(SEED)  # replays the trainer's shuffling
            self.start = 0.0

        def peer_epochs(self, order: torch.Tensor, epoch: int) -> None:
            names = [PEER, PEER_FUSED] if epoch % 4 < 2 else [PEER_FUSED, PEER]
            for name in names:
                net, opt = peers[name]
                start = time.thread_time()
                for i in range(0, num_train, BATCH):
                    x = x_train[order[i : i + BATCH]]
                    opt.zero_grad(set_to_none=True)
                    peer_loss(net, x).backward()
                    opt.step()
                times[name].append(time.thread_time() - start)

        def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
            self.order = torch.randperm(num_train, generator=self.order_rng)
            if epoch % 2 == 1:
                self.peer_epochs(self.order, epoch)
            self.start = time.thread_time()

        def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:
            times["bayesdl MADE"].append(time.thread_time() - self.start)
            if epoch % 2 == 0:
                self.peer_epochs(self.order, epoch)

    class SetUp(Callback):
        def on_fit_start(self, trainer: Trainer) -> None:
            times["set-up"] = [time.thread_time() - fit_start]

    fit_start = time.thread_time()
    Trainer(
        ours,
        lr=1e-3,
        epochs=epochs,
        batch_size=BATCH,
        progress=False,
        device="cpu",
        seed=SEED,
        callbacks=[SetUp(), PeerEpochs()],
    ).fit(x_train)
    print(
        f"bayesdl one-off set-up in fit (optimizer, one check of the {num_train} training rows): "
        f"{1000 * times['set-up'][0]:.0f} ms, not included in ms/epoch"
    )
    with torch.no_grad():
        ours.eval()
        nll_ours = float(-ours.log_prob(x_test).mean())
        nll_peers = {name: float(peer_loss(net, x_test)) for name, (net, _) in peers.items()}
    ms_ours = 1000 * statistics.median(times["bayesdl MADE"])
    setting = f"{num_train} train, {epochs} epochs"
    rows = []
    for name in (PEER, PEER_FUSED):
        ms_peer = 1000 * statistics.median(times[name])
        rows.append(
            {
                "task": f"MADE [500] ms/epoch ({setting})",
                "peer": name,
                "peer_figure": f"{ms_peer:.0f}",
                "bayesdl_figure": f"{ms_ours:.0f}",
                "ratio": f"{ms_peer / ms_ours:.2f} (peer time / bayesdl time; >1 = bayesdl faster)",
            }
        )
    for name in (PEER, PEER_FUSED):
        rows.append(
            {
                "task": f"MADE [500] test NLL nats ({num_test} test)",
                "peer": name,
                "peer_figure": f"{nll_peers[name]:.2f}",
                "bayesdl_figure": f"{nll_ours:.2f}",
                "ratio": f"{nll_ours - nll_peers[name]:+.2f} nats (bayesdl - peer; <0 = bayesdl better)",
            }
        )
    return rows


def naive_seconds_per_image_row(model: PixelCNN, n: int, seed: int) -> float:
    """Seconds for the first image row of the naive sampler, which recomputes the whole image for every
    pixel; its cost is the same for every row, so the full image costs H times this."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, model.height, model.width)
    start = time.perf_counter()
    with torch.no_grad():
        for j in range(model.width):
            params = model(x)[:, :, :, 0, j]
            x[:, :, 0, j] = model.likelihood.sample(params, g)
    return time.perf_counter() - start


def pixelcnn_rows(quick: bool) -> list[dict]:
    torch.manual_seed(0)
    layers, channels = 4, 16  # the ar-fashion --quick PixelCNN
    model = PixelCNN(1, 28, num_layers=layers, hidden_channels=channels, kernel_size=5).eval()
    batch = 64
    start = time.perf_counter()
    model.sample(batch, seed=0)
    ours = batch / (time.perf_counter() - start)
    naive = batch / (model.height * naive_seconds_per_image_row(model, batch, seed=0))
    return [
        {
            "task": f"PixelCNN sampling images/s (28x28, batch 64, {layers} layers x {channels} ch, k=5)",
            "peer": "full image per pixel (row 1 timed, x28)",
            "peer_figure": f"{naive:.2f}",
            "bayesdl_figure": f"{ours:.2f}",
            "ratio": f"{ours / naive:.2f} (bayesdl / naive)",
        }
    ]


def main(quick: bool = False) -> list[dict]:
    """Run both tasks and print a table; returns rows with task, peer, peer_figure, bayesdl_figure, ratio."""
    rows = made_rows(quick) + pixelcnn_rows(quick)
    print_rows(rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="MADE on 5000 training images for 3 epochs (default: 60000 for 5)",
    )
    main(parser.parse_args().quick)
