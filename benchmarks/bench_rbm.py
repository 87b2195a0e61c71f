"""Benchmark: scikit-learn's BernoulliRBM (PCD) against bayesdl's RBM (PCD and CD-1), in one process.

Task (issue #8): training on binarised Fashion-MNIST (60000 x 784), 500 hidden units, batch size 100,
learning rate 0.05, plain SGD (no momentum, no weight decay, no schedule), one Gibbs step per update,
persistent chains = batch size, W ~ N(0, 0.01^2) and zero biases in both libraries. This is exactly
sklearn's algorithm: bayesdl's update was checked step by step against a line-by-line torch replica
of ``BernoulliRBM._fit`` (same draws, equal parameters to float rounding). Reported: CPU seconds per
epoch (process time, mean over the epochs trained; the machine is shared, so wall time is not
reliable) and the ratio peer / bayesdl; a measured floor (the bfloat16 products and the fp32 weight
cast and update alone, no sampling and no trainer), which bounds the ratio any bfloat16 step could
reach; and the mean test log-likelihood in nats of the PCD models after the same number of epochs,
for two seeds per library, each scored with bayesdl's AIS (sklearn's weights are copied into a
bayesdl RBM). PCD at a constant learning rate moves a lot from seed to seed, so a single seed says
little about which library trains better. Run it with ``OMP_NUM_THREADS=1`` so that both libraries
use one core.

    flock /tmp/bayesdl-heavy.lock python benchmarks/bench_rbm.py           # full
    python benchmarks/bench_rbm.py --quick                                 # 6000 images, 2 epochs, one seed
    python benchmarks/bench_rbm.py --exact-check                           # 20 hidden units, exact log Z
    python benchmarks/bench_rbm.py --seed-spread 0,1,2 [--fixed-order]     # bayesdl PCD log-likelihood per seed

``--exact-check`` trains the same way with 20 hidden units on 20000 images, where log Z is exact, to
separate training differences from AIS error and to show the seed-to-seed spread of PCD.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.data import BatchLoader, load_fashion_mnist
from bayesdl.inference import Trainer
from bayesdl.models.rbm import RBM

HIDDEN, BATCH, LR = 500, 100, 0.05


def sklearn_rbm_to_bayesdl(sk) -> RBM:
    """Copy a fitted sklearn BernoulliRBM into a bayesdl RBM (same energy: p(h|v) = sigmoid(c + v W'))."""
    rbm = RBM(sk.components_.shape[1], sk.components_.shape[0])
    with torch.no_grad():
        rbm.weight.copy_(torch.as_tensor(sk.components_.T, dtype=torch.float32))
        rbm.visible_bias.copy_(torch.as_tensor(sk.intercept_visible_, dtype=torch.float32))
        rbm.hidden_bias.copy_(torch.as_tensor(sk.intercept_hidden_, dtype=torch.float32))
    return rbm


def fit_sklearn(x: np.ndarray, epochs: int, seed: int = 0):
    from sklearn.neural_network import BernoulliRBM

    sk = BernoulliRBM(n_components=HIDDEN, learning_rate=LR, batch_size=BATCH, n_iter=epochs, random_state=seed)
    start = time.process_time()
    sk.fit(x)
    return sk, (time.process_time() - start) / epochs


def fit_bayesdl(x: torch.Tensor, method: str, epochs: int, compute_dtype: str = "float32", seed: int = 0, shuffle: bool = True):
    rbm = RBM(x.shape[1], HIDDEN, method=method, k=1, num_chains=BATCH, seed=seed, compute_dtype=compute_dtype)
    trainer = Trainer(rbm, optimizer="sgd", lr=LR, epochs=epochs, batch_size=BATCH, device="cpu", progress=False, seed=seed)
    start = time.process_time()
    # shuffle=False visits the minibatches in a fixed order every epoch, as sklearn's BernoulliRBM does
    trainer.fit(x if shuffle else BatchLoader(x, BATCH, shuffle=False))
    return rbm, (time.process_time() - start) / epochs


def product_floor(num_examples: int, num_visible: int, sampling: bool = False) -> float:
    """CPU seconds per epoch of only the unavoidable work of a bfloat16 PCD-1 step, with fp32 master weights.

    Per minibatch: cast W to bfloat16; the three products (chains' h W' for v_neg; [v; v_neg] W for
    the hidden inputs; [v; v_neg]' s for the gradient, each with fp32 accumulation in oneDNN/AMX);
    the gradient back to fp32; and the SGD update of W. No sampling, sigmoid, biases or trainer.
    This bounds from below the time of any implementation that uses bfloat16 products with fp32
    master weights at batch 100, so sklearn's time divided by it bounds the attainable ratio.
    With ``sampling=True`` the loop also draws the uniforms that one PCD-1 step needs (one per
    visible and one per hidden unit of every chain) with torch's generator.
    """
    gen = torch.Generator().manual_seed(0)
    weight = 0.01 * torch.randn(num_visible, HIDDEN, generator=gen)
    hidden = (torch.rand(BATCH, HIDDEN, generator=gen) < 0.5).to(torch.bfloat16)
    stacked = (torch.rand(2 * BATCH, num_visible, generator=gen) < 0.3).to(torch.bfloat16)
    probs = torch.rand(2 * BATCH, HIDDEN, generator=gen).to(torch.bfloat16)
    steps = num_examples // BATCH
    start = time.process_time()
    for _ in range(steps):
        w16 = weight.to(torch.bfloat16)
        torch.mm(hidden, w16.t())
        torch.mm(stacked, w16)
        grad = torch.mm(stacked.t().contiguous(), probs).float()
        weight.add_(grad, alpha=-1e-9)
        if sampling:
            torch.rand(BATCH, num_visible)
            torch.rand(BATCH, HIDDEN)
    return time.process_time() - start


def test_ll(rbm: RBM, x_train: torch.Tensor, x_test: torch.Tensor, chains: int, betas: int) -> tuple[float, float, float]:
    est = rbm.log_partition("ais", num_chains=chains, num_betas=betas, base_data=x_train, seed=0)
    lp = rbm.log_prob(x_test).double()
    return float(lp.mean()), est.log_z_std_err, float(lp.std() / math.sqrt(len(lp)))


def _ll_text(ll: tuple[float, float, float]) -> str:
    return f"{ll[0]:.2f} nats (log Z s.e. {ll[1]:.3f}, test s.e.m. {ll[2]:.2f})"


def main(quick: bool = False) -> list[dict]:
    torch.manual_seed(0)
    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    epochs, chains, betas, seeds = 10, 100, 5000, (0, 1)
    if quick:
        x_train, x_test = x_train[:6000], x_test[:1000]
        epochs, chains, betas, seeds = 2, 50, 1000, (0,)
    x32 = x_train.numpy().astype(np.float32)
    x64 = x32.astype(np.float64)
    size = f"{len(x_train)}x{x_train.shape[1]}"

    fit_bayesdl(x_train[:1000], "pcd", 1, "bfloat16")  # warm-up: first-call imports and allocations
    sk64, sk64_s = fit_sklearn(x64, 1)
    cd1, cd1_s = fit_bayesdl(x_train, "cd", 1, "bfloat16")
    floor_s = product_floor(len(x_train), x_train.shape[1])
    floor_rng_s = product_floor(len(x_train), x_train.shape[1], sampling=True)
    sk_runs, bd_runs = {}, {}
    for seed in seeds:
        sk_runs[seed] = fit_sklearn(x32, epochs, seed)
        bd_runs[seed] = fit_bayesdl(x_train, "pcd", epochs, "float32", seed)
    pcd16, pcd16_s = fit_bayesdl(x_train, "pcd", epochs, "bfloat16", seeds[0])
    sk32_s = float(np.mean([t for _, t in sk_runs.values()]))
    pcd_s = float(np.mean([t for _, t in bd_runs.values()]))
    sk_ll = {seed: test_ll(sklearn_rbm_to_bayesdl(m), x_train, x_test, chains, betas) for seed, (m, _) in sk_runs.items()}
    bd_ll = {seed: test_ll(m, x_train, x_test, chains, betas) for seed, (m, _) in bd_runs.items()}
    bd16_ll = test_ll(pcd16, x_train, x_test, chains, betas)

    task = f"1 epoch, binarised Fashion-MNIST {size}, {HIDDEN} hidden, batch {BATCH}"
    rows = [
        {"task": f"{task}: CPU s/epoch, PCD, both float32", "peer": "sklearn BernoulliRBM (PCD, float32)",
         "peer_figure": f"{sk32_s:.2f} s", "bayesdl_figure": f"{pcd_s:.2f} s (PCD, float32)", "ratio": f"{sk32_s / pcd_s:.2f}x"},
        {"task": f"{task}: CPU s/epoch, PCD, bayesdl compute_dtype='bfloat16'", "peer": "sklearn BernoulliRBM (PCD, float32)",
         "peer_figure": f"{sk32_s:.2f} s", "bayesdl_figure": f"{pcd16_s:.2f} s (PCD, bfloat16)", "ratio": f"{sk32_s / pcd16_s:.2f}x"},
        {"task": f"{task}: CPU s/epoch, PCD, sklearn float64 (its default dtype)", "peer": "sklearn BernoulliRBM (PCD, float64)",
         "peer_figure": f"{sk64_s:.2f} s", "bayesdl_figure": f"{pcd16_s:.2f} s (PCD, bfloat16)", "ratio": f"{sk64_s / pcd16_s:.2f}x"},
        {"task": f"{task}: CPU s/epoch, bayesdl CD-1 (bfloat16) vs sklearn PCD float32", "peer": "sklearn BernoulliRBM (PCD, float32)",
         "peer_figure": f"{sk32_s:.2f} s", "bayesdl_figure": f"{cd1_s:.2f} s (CD-1, bfloat16)", "ratio": f"{sk32_s / cd1_s:.2f}x"},
        {"task": f"{task}: floor = bfloat16 products + fp32 weight cast/update only (no sampling, no trainer)",
         "peer": "sklearn BernoulliRBM (PCD, float32)", "peer_figure": f"{sk32_s:.2f} s",
         "bayesdl_figure": f"{floor_s:.2f} s (floor)", "ratio": f"{sk32_s / floor_s:.2f}x (the most any bf16 step could reach)"},
        {"task": f"{task}: floor + the uniform draws of PCD-1 (torch.rand, 100x784 + 100x500 per step)",
         "peer": "sklearn BernoulliRBM (PCD, float32)", "peer_figure": f"{sk32_s:.2f} s",
         "bayesdl_figure": f"{floor_rng_s:.2f} s (floor + sampling)", "ratio": f"{sk32_s / floor_rng_s:.2f}x (ceiling with torch's generator)"},
    ]
    for seed in seeds:
        rows.append({
            "task": f"AIS test log-likelihood after {epochs} epochs of PCD, seed {seed}, both float32 ({len(x_test)} test images; AIS {chains} chains, {betas} betas)",
            "peer": "sklearn BernoulliRBM weights scored by bayesdl AIS", "peer_figure": _ll_text(sk_ll[seed]),
            "bayesdl_figure": _ll_text(bd_ll[seed]), "ratio": f"{bd_ll[seed][0] - sk_ll[seed][0]:+.2f} nats (bayesdl - sklearn)"})
    if len(seeds) > 1:
        sk_mean = float(np.mean([sk_ll[s][0] for s in seeds]))
        bd_mean = float(np.mean([bd_ll[s][0] for s in seeds]))
        rows.append({
            "task": f"AIS test log-likelihood after {epochs} epochs of PCD, mean over seeds {list(seeds)}",
            "peer": "sklearn BernoulliRBM weights scored by bayesdl AIS",
            "peer_figure": f"{sk_mean:.2f} nats (seeds: {', '.join(f'{sk_ll[s][0]:.1f}' for s in seeds)})",
            "bayesdl_figure": f"{bd_mean:.2f} nats (seeds: {', '.join(f'{bd_ll[s][0]:.1f}' for s in seeds)})",
            "ratio": f"{bd_mean - sk_mean:+.2f} nats (bayesdl - sklearn)"})
    rows.append({
        "task": f"AIS test log-likelihood after {epochs} epochs of PCD, seed {seeds[0]}, bayesdl compute_dtype='bfloat16'",
        "peer": "sklearn BernoulliRBM weights (float32) scored by bayesdl AIS", "peer_figure": _ll_text(sk_ll[seeds[0]]),
        "bayesdl_figure": _ll_text(bd16_ll), "ratio": f"{bd16_ll[0] - sk_ll[seeds[0]][0]:+.2f} nats (bayesdl - sklearn)"})
    print_rows(rows)
    return rows


def seed_spread(seeds: tuple[int, ...], shuffle: bool = True, quick: bool = False) -> dict[int, float]:
    """AIS test log-likelihood of bayesdl PCD (float32, the settings of :func:`main`) for several seeds."""
    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    epochs, chains, betas = 10, 100, 5000
    if quick:
        x_train, x_test = x_train[:6000], x_test[:1000]
        epochs, chains, betas = 2, 50, 1000
    out = {}
    for seed in seeds:
        rbm, _ = fit_bayesdl(x_train, "pcd", epochs, "float32", seed, shuffle=shuffle)
        out[seed] = test_ll(rbm, x_train, x_test, chains, betas)[0]
        print(f"bayesdl PCD, {epochs} epochs, seed {seed}, {'reshuffled' if shuffle else 'fixed'} minibatches: "
              f"AIS test log-likelihood {out[seed]:.2f} nats ({len(x_test)} test images; AIS {chains} chains, {betas} betas)")
    return out


def exact_check(hidden: int = 20, num_train: int = 20000, epochs: int = 10, seeds: tuple[int, ...] = (0, 1)) -> dict[str, float]:
    """Test log-likelihood with exact log Z for sklearn's and bayesdl's PCD (several seeds each)."""
    from sklearn.neural_network import BernoulliRBM

    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    x_train, x_test = x_train[:num_train], x_test[:2000]
    out = {}
    for seed in seeds:
        sk = BernoulliRBM(n_components=hidden, learning_rate=LR, batch_size=BATCH, n_iter=epochs, random_state=seed)
        sk.fit(x_train.numpy())
        out[f"sklearn seed {seed}"] = float(sklearn_rbm_to_bayesdl(sk).log_prob(x_test).mean())
        rbm = RBM(x_train.shape[1], hidden, method="pcd", num_chains=BATCH, seed=seed)
        Trainer(rbm, optimizer="sgd", lr=LR, epochs=epochs, batch_size=BATCH, device="cpu", progress=False, seed=seed).fit(x_train)
        out[f"bayesdl seed {seed}"] = float(rbm.log_prob(x_test).mean())
    for name, value in out.items():
        print(f"{hidden} hidden, {epochs} epochs PCD, exact log Z: {name}: test log-likelihood {value:.2f} nats")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6000 training images, 2 epochs, short AIS")
    parser.add_argument("--exact-check", action="store_true", help="20 hidden units with exact log Z, two seeds per library")
    parser.add_argument("--seed-spread", type=str, default=None, help="comma-separated seeds: bayesdl PCD log-likelihood per seed")
    parser.add_argument("--fixed-order", action="store_true", help="with --seed-spread: no reshuffling between epochs (as sklearn)")
    args = parser.parse_args()
    if args.seed_spread:
        seed_spread(tuple(int(s) for s in args.seed_spread.split(",")), shuffle=not args.fixed_order, quick=args.quick)
    elif args.exact_check:
        exact_check()
    else:
        main(quick=args.quick)
