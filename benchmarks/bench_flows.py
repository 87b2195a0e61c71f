"""Benchmark: bayesdl's MAF against zuko's and nflows' MAF of the same size, trained in one process.

Task: 8x8 digits (17 grey levels), uniformly dequantised afresh for every batch, u = (k + v) / 17,
and mapped to logit space y = logit(0.05 + 0.9 u); every model is a 5-layer MAF with MADE hidden
layers [256, 256] (alternating orderings), Adam lr 1e-3 (fused for all three, as the Trainer runs it by
default), batch 100, the same number of epochs.
bayesdl trains ``Dequantized(MAF(..., logit_alpha=0.05))`` with the shared Trainer (the logit is its
first layer); the peers get the same noise model and logit map in a plain loop. Training is interleaved epoch by epoch (a Trainer callback
runs one epoch of each peer), so that changes in machine load hit all three alike.

Reported: milliseconds per training epoch (median over epochs) and the test NLL of the discrete
digits (an upper bound, nats per image and bits/dim), where the logit's log-det is added back with
:func:`bayesdl.inference.bits_per_dim`; also the train and test NLL every 10 epochs (the training
images with one fixed dequantisation draw), which show the over-fitting.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_flows.py [--quick] [--epochs N] [--seed S]``.

What differs between the three MAFs (read from the installed zuko 1.6 and nflows sources): the same
orderings (natural / reversed, alternating), the same cyclic MADE degrees, plain (non-residual) MADE
blocks with ReLU, PyTorch's default initialisation of every layer including the last, a standard
normal base, and here the same data pipeline, optimiser, batches per epoch and test set. The only
design difference is the affine map and its scale, in the data-to-noise direction:

* zuko: z = exp(a) x + b with a = raw / (1 + |raw| / 6.9), a soft symmetric bound on log-scale;
* nflows: z = s x + b with s = softplus(raw) + 1e-3, asymmetric (log s grows like log raw above 1);
* bayesdl before: z = (x - mu) exp(-alpha) with alpha = 5 tanh(raw / 5), a symmetric bound;
* bayesdl now: z = s x + b with s = softplus(raw + c) + 1e-3 and c chosen so that s = 1 at raw = 0.

With 1500 training images all three over-fit: the test NLL is lowest around epochs 40-60 and rises
after, while the train NLL keeps falling, so the figure at epoch 100 mostly measures how fast each
model over-fits. The symmetric bounds let the scales sharpen fastest; the softplus slows it.

Last full runs (100 epochs, core 0 of a 2-core VM shared with other jobs, 2026-11-22; timings are
only comparable within a run):

* before (z = (x - mu) exp(-5 tanh(raw / 5)), seed 0): ms/epoch ratio 0.88 to zuko; test NLL
  bayesdl 107.77 vs zuko 104.00 vs nflows 101.01: target not met.
* now, seed 0: ms/epoch bayesdl 830 vs zuko 921 (0.90) and nflows 872 (0.95); test NLL bayesdl
  103.55 nats (2.334 bits/dim) vs zuko 104.00 (2.344) and nflows 101.01 (2.277); train NLL at epoch
  100: 80.54 / 81.02 / 81.97.
* now, seed 1 (``--seed 1``): ms/epoch bayesdl 224 vs zuko 256 (0.87) and nflows 236 (0.95); test NLL
  bayesdl 101.75 (2.294) vs zuko 102.94 (2.320) and nflows 99.87 (2.251); train NLL 80.05 / 80.72 / 82.59.

Both targets are met with both seeds, the NLL one by 0.45 and 1.19 nats (about the size of the
seed-to-seed spread). nflows stays about 2 nats better at epoch 100 because it over-fits slowest;
at their best epochs (40-60) the three are within 1.5 nats of each other (seed 0: 97.96, 98.21, 96.77;
seed 1: 97.10, 97.44, 97.30).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.data import load_digits_levels, toy_density
from bayesdl.data.digits import DIGITS_LEVELS
from bayesdl.inference import Callback, Trainer, bits_per_dim
from bayesdl.models.flows import MAF, Dequantized, NSFAutoregressive
from bayesdl.nn.flows import Logit

FEATURES, TRANSFORMS, HIDDEN, BATCH, LR = 64, 5, [256, 256], 100, 1e-3


LOGIT = Logit(0.05)


def dequantize_logit(
    levels: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """u = (k + v) / 17 with fresh v, y = logit(0.05 + 0.9 u), and log|dy/du| per example."""
    u = (levels + torch.rand(levels.shape, generator=generator)) / DIGITS_LEVELS
    y, log_det = LOGIT(u)
    return u, y, log_det


def prepare(seed: int = 0) -> dict[str, torch.Tensor]:
    """Training levels; the test set and (for the training curves) the training set dequantised once,
    with the same noise for every model."""
    train = load_digits_levels("train")[0].float()
    test_u, test_y, test_log_det = dequantize_logit(
        load_digits_levels("test")[0].float(), torch.Generator().manual_seed(seed + 1)
    )
    train_u, train_y, train_log_det = dequantize_logit(train, torch.Generator().manual_seed(seed + 2))
    return {
        "train": train,
        "test_u": test_u,
        "test": test_y,
        "test_log_det": test_log_det,
        "train_u": train_u,
        "train_y": train_y,
        "train_y_log_det": train_log_det,
    }


def zuko_maf() -> tuple[torch.nn.Module, callable]:
    import zuko

    flow = zuko.flows.MAF(FEATURES, transforms=TRANSFORMS, hidden_features=HIDDEN)
    return flow, lambda x: flow().log_prob(x)


def nflows_maf() -> tuple[torch.nn.Module, callable]:
    from nflows.distributions.normal import StandardNormal
    from nflows.flows import Flow
    from nflows.transforms import CompositeTransform, MaskedAffineAutoregressiveTransform, ReversePermutation

    steps = []
    for _ in range(
        TRANSFORMS
    ):  # hidden layers = initial layer + num_blocks, so num_blocks=1 gives [256, 256]
        steps += [
            MaskedAffineAutoregressiveTransform(
                FEATURES, HIDDEN[0], num_blocks=len(HIDDEN) - 1, use_residual_blocks=False
            ),
            ReversePermutation(FEATURES),
        ]
    flow = Flow(CompositeTransform(steps), StandardNormal([FEATURES]))
    return flow, lambda x: flow.log_prob(x)


class PeerEpochs(Callback):
    """After every bayesdl epoch, train each peer for one epoch over the same data and time it; every
    ``every`` epochs record the train and test NLL of all models (outside the timed sections; ``every=0``
    records nothing).

    ``optimizers`` maps a peer to an optimizer factory (default: fused Adam, as the Trainer runs it, so
    that the timings compare the flows and not two Adam implementations); ``batch(rows, generator)`` turns
    a batch of training rows into (peer input, log-det added to the peer's log-density), by default the
    digits' dequantisation and logit map."""

    def __init__(
        self,
        peers: dict[str, tuple[torch.nn.Module, callable]],
        data: dict[str, torch.Tensor],
        seed: int,
        ours: callable,
        every: int = 10,
        optimizers: dict[str, callable] | None = None,
        batch: callable | None = None,
        batch_size: int = BATCH,
    ) -> None:
        self.peers = peers
        self.data = data
        optimizers = optimizers or {}
        fused = lambda params: torch.optim.Adam(params, lr=LR, fused=True)  # noqa: E731
        self.optimizers = {k: optimizers.get(k, fused)(m.parameters()) for k, (m, _) in peers.items()}
        self.batch = batch or (lambda rows, g: dequantize_logit(rows, g)[1:])
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.seconds: dict[str, list[float]] = {k: [] for k in peers}
        self.ours, self.every = ours, every
        self.curves: list[dict[str, float]] = []

    def on_epoch_end(self, trainer, epoch, record):
        self._train_peers()
        if self.every and (epoch % self.every == 0 or epoch == trainer.epochs):
            row = {
                "epoch": epoch,
                "bayesdl train": nll_nats(self.ours, self.data, "train_u", True),
                "bayesdl test": nll_nats(self.ours, self.data, "test_u", True),
            }
            for name, (_module, log_prob) in self.peers.items():
                row[f"{name} train"] = nll_nats(log_prob, self.data, "train_y")
                row[f"{name} test"] = nll_nats(log_prob, self.data, "test")
            self.curves.append(row)

    def _train_peers(self) -> None:
        data = self.data["train"]
        order = torch.randperm(len(data), generator=self.generator)
        for name, (_module, log_prob) in self.peers.items():
            opt = self.optimizers[name]
            start = time.perf_counter()
            for i in range(0, len(order), self.batch_size):
                y, log_det = self.batch(data[order[i : i + self.batch_size]], self.generator)
                opt.zero_grad(set_to_none=True)
                loss = -(log_prob(y) + log_det).mean()
                loss.backward()
                opt.step()
            self.seconds[name].append(time.perf_counter() - start)


def nll_per_image(
    log_prob: callable, data: dict[str, torch.Tensor], key: str, logit_inside: bool = False
) -> torch.Tensor:
    """Discrete NLL upper bound (nats) of each dequantised image ``data[key]``.

    A peer's density is over logit space (``key`` names logit values), so the logit's log-det is added
    by ``bits_per_dim``; bayesdl's flow has the logit as its first layer and is evaluated on u directly.
    """
    with torch.no_grad():
        if logit_inside:
            bits = bits_per_dim(log_prob(data[key]), FEATURES, num_levels=DIGITS_LEVELS)
        else:
            bits = bits_per_dim(
                log_prob(data[key]),
                FEATURES,
                num_levels=DIGITS_LEVELS,
                log_det_preprocess=data[f"{key}_log_det"],
            )
    return bits * FEATURES * math.log(2)


def nll_nats(
    log_prob: callable, data: dict[str, torch.Tensor], key: str, logit_inside: bool = False
) -> float:
    """Mean discrete NLL upper bound (nats per image) of the dequantised images ``data[key]``."""
    return float(nll_per_image(log_prob, data, key, logit_inside).mean())


def maf_rows(quick: bool = False, epochs: int | None = None, seed: int = 0) -> list[dict]:
    """bayesdl's MAF against zuko's and nflows' on the dequantised digits."""
    epochs = epochs or (5 if quick else 100)
    torch.manual_seed(seed)
    data = prepare(seed)
    peers = {}
    for name, build in (("zuko", zuko_maf), ("nflows", nflows_maf)):
        try:
            peers[name] = build()
        except ImportError as err:  # a peer that is not installed is reported, not faked
            print(f"{name} not available: {err}")
    flow = MAF(FEATURES, num_transforms=TRANSFORMS, hidden_sizes=HIDDEN, logit_alpha=0.05)
    callback = PeerEpochs(peers, data, seed=seed + 1, ours=flow.log_prob, every=1 if quick else 10)
    history = Trainer(
        Dequantized(flow, DIGITS_LEVELS),
        lr=LR,
        epochs=epochs,
        batch_size=BATCH,
        device="cpu",
        progress=False,
        seed=seed,
        callbacks=[callback],
    ).fit(data["train"])
    flow.eval()
    ours_ms = 1000 * statistics.median(history["seconds"])
    ours_nll = nll_nats(flow.log_prob, data, "test_u", logit_inside=True)
    bits = 1 / (FEATURES * math.log(2))
    rows = []
    for name, (module, log_prob) in peers.items():
        module.eval()
        peer_ms = 1000 * statistics.median(callback.seconds[name])
        peer_nll = nll_nats(log_prob, data, "test")
        rows.append(
            {
                "task": f"MAF 5x[256,256] digits, ms/epoch (median of {epochs})",
                "peer": name,
                "peer_figure": f"{peer_ms:.1f}",
                "bayesdl_figure": f"{ours_ms:.1f}",
                "ratio": f"{ours_ms / peer_ms:.2f}",
            }
        )
        rows.append(
            {
                "task": f"test NLL nats/image after {epochs} epochs (bits/dim)",
                "peer": name,
                "peer_figure": f"{peer_nll:.2f} ({peer_nll * bits:.3f})",
                "bayesdl_figure": f"{ours_nll:.2f} ({ours_nll * bits:.3f})",
                "ratio": f"{ours_nll / peer_nll:.3f}",
            }
        )
    print(f"NLL (nats/image) on the training images and the test images during training, seed {seed}:")
    print("  ".join(f"{k:>14}" for k in callback.curves[0]))
    for row in callback.curves:
        print("  ".join(f"{v:>14.2f}" if k != "epoch" else f"{v:>14d}" for k, v in row.items()))
    return rows


# ------------------------------------------------------------------------------------------------ NSF
NSF_BINS = 8
NSF_DIGITS_TRANSFORMS, NSF_DIGITS_HIDDEN = 5, [256, 256]
NSF_2D_TRANSFORMS, NSF_2D_HIDDEN, NSF_2D_DENSITY, NSF_2D_TRAIN, NSF_2D_TEST = (
    5,
    [128, 128],
    "checkerboard",
    5000,
    10000,
)


def zuko_nsf_peers(
    features: int, transforms: int, hidden: list[int], seed: int
) -> tuple[dict[str, tuple[torch.nn.Module, callable]], dict[str, callable]]:
    """zuko's NSF (autoregressive, its default) twice from the same initialisation: trained with fused Adam
    (the fastest configuration, as bayesdl's Trainer runs it) and with ``torch.optim.Adam`` as zuko's
    documentation writes it."""
    import zuko

    peers, optimizers = {}, {}
    for name, fused in (("zuko NSF, fused Adam", True), ("zuko NSF, Adam (as zuko's docs)", False)):
        torch.manual_seed(seed)
        flow = zuko.flows.NSF(features, bins=NSF_BINS, transforms=transforms, hidden_features=hidden)
        peers[name] = (flow, lambda x, flow=flow: flow().log_prob(x))
        optimizers[name] = (
            (lambda params: torch.optim.Adam(params, lr=LR, fused=True))
            if fused
            else (lambda params: torch.optim.Adam(params, lr=LR))
        )
    return peers, optimizers


def _nsf_rows(
    task: str,
    epochs: int,
    ours_seconds: list[float],
    ours_nll: torch.Tensor,
    callback: PeerEpochs,
    peer_nll: dict[str, torch.Tensor],
    unit: str,
) -> list[dict]:
    """Time per epoch (median) and mean test NLL with its SE, and the paired difference of NLLs."""
    ours_ms = 1000 * statistics.median(ours_seconds)
    n = len(ours_nll)
    ours_se = float(ours_nll.std() / math.sqrt(n))
    rows = []
    for name, nll in peer_nll.items():
        peer_ms = 1000 * statistics.median(callback.seconds[name])
        diff = ours_nll - nll
        rows.append(
            {
                "task": f"{task}, ms/epoch (median of {epochs})",
                "peer": name,
                "peer_figure": f"{peer_ms:.1f}",
                "bayesdl_figure": f"{ours_ms:.1f}",
                "ratio": f"{ours_ms / peer_ms:.2f}",
            }
        )
        rows.append(
            {
                "task": f"{task}, test NLL {unit} ± SE ({n} test points, {epochs} epochs)",
                "peer": name,
                "peer_figure": f"{float(nll.mean()):.3f} ± {float(nll.std() / math.sqrt(n)):.3f}",
                "bayesdl_figure": f"{float(ours_nll.mean()):.3f} ± {ours_se:.3f}",
                "ratio": f"{float(diff.mean()):+.3f} ± {float(diff.std() / math.sqrt(n)):.3f} (bayesdl - peer, paired SE)",
            }
        )
    return rows


def nsf_digits_rows(quick: bool = False, epochs: int | None = None, seed: int = 0) -> list[dict]:
    """bayesdl's NSFAutoregressive against zuko's NSF on the dequantised digits (same pipeline as the MAF rows)."""
    epochs = epochs or (10 if quick else 100)
    torch.manual_seed(seed)
    data = prepare(seed)
    peers, optimizers = zuko_nsf_peers(FEATURES, NSF_DIGITS_TRANSFORMS, NSF_DIGITS_HIDDEN, seed)
    torch.manual_seed(seed)
    flow = NSFAutoregressive(
        FEATURES, NSF_DIGITS_TRANSFORMS, NSF_DIGITS_HIDDEN, bins=NSF_BINS, logit_alpha=0.05
    )
    callback = PeerEpochs(peers, data, seed=seed + 1, ours=flow.log_prob, every=0, optimizers=optimizers)
    history = Trainer(
        Dequantized(flow, DIGITS_LEVELS),
        lr=LR,
        epochs=epochs,
        batch_size=BATCH,
        device="cpu",
        progress=False,
        seed=seed,
        callbacks=[callback],
    ).fit(data["train"])
    flow.eval()
    peer_nll = {name: nll_per_image(log_prob, data, "test") for name, (_m, log_prob) in peers.items()}
    task = f"NSF-AR {NSF_DIGITS_TRANSFORMS}x{NSF_DIGITS_HIDDEN} K={NSF_BINS} digits"
    return _nsf_rows(
        task,
        epochs,
        history["seconds"],
        nll_per_image(flow.log_prob, data, "test_u", True),
        callback,
        peer_nll,
        "nats/image",
    )


def nsf_2d_rows(quick: bool = False, epochs: int | None = None, seed: int = 0) -> list[dict]:
    """bayesdl's NSFAutoregressive against zuko's NSF on a 2-D density (exact NLL in nats per point)."""
    epochs = epochs or (10 if quick else 40)
    train = toy_density(NSF_2D_DENSITY, NSF_2D_TRAIN, seed=seed)
    test = toy_density(NSF_2D_DENSITY, NSF_2D_TEST, seed=seed + 1)
    peers, optimizers = zuko_nsf_peers(2, NSF_2D_TRANSFORMS, NSF_2D_HIDDEN, seed)
    torch.manual_seed(seed)
    flow = NSFAutoregressive(2, NSF_2D_TRANSFORMS, NSF_2D_HIDDEN, bins=NSF_BINS)
    zero = torch.zeros(())
    callback = PeerEpochs(
        peers,
        {"train": train},
        seed=seed + 1,
        ours=flow.log_prob,
        every=0,
        optimizers=optimizers,
        batch=lambda rows, g: (rows, zero),
    )
    history = Trainer(
        flow,
        lr=LR,
        epochs=epochs,
        batch_size=BATCH,
        device="cpu",
        progress=False,
        seed=seed,
        callbacks=[callback],
    ).fit(train)
    flow.eval()
    with torch.no_grad():
        ours = -flow.log_prob(test)
        peer_nll = {name: -log_prob(test) for name, (_m, log_prob) in peers.items()}
    task = f"NSF-AR {NSF_2D_TRANSFORMS}x{NSF_2D_HIDDEN} K={NSF_BINS} {NSF_2D_DENSITY} 2-D"
    return _nsf_rows(task, epochs, history["seconds"], ours, callback, peer_nll, "nats/point")


SECTIONS = {"maf": maf_rows, "nsf-digits": nsf_digits_rows, "nsf-2d": nsf_2d_rows}


def main(
    quick: bool = False, epochs: int | None = None, seed: int = 0, only: list[str] | None = None
) -> list[dict]:
    rows = []
    for name in only or list(SECTIONS):
        try:
            rows += SECTIONS[name](quick=quick, epochs=epochs, seed=seed)
        except ImportError as err:  # zuko missing: reported, not faked
            print(f"{name}: a peer is not available: {err}")
    print_rows(rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 epochs instead of 100 (MAF), 10 instead of 100 (NSF digits) or 40 (NSF 2-D)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the number of epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisations, batches and noise")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SECTIONS),
        default=None,
        help="run only these sections (default: all)",
    )
    args = parser.parse_args()
    main(quick=args.quick, epochs=args.epochs, seed=args.seed, only=args.only)
