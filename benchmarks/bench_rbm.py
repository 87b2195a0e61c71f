"""Benchmark: scikit-learn's BernoulliRBM (PCD) against bayesdl's RBM (PCD and CD-1), in one process.

Task (issue #8): training on binarised Fashion-MNIST (60000 x 784), 500 hidden units, batch size 100,
learning rate 0.05, plain SGD (no momentum, no weight decay, no schedule), one Gibbs step per update,
persistent chains = batch size, W ~ N(0, 0.01^2) and zero biases in both libraries. This is exactly
sklearn's algorithm: bayesdl's update equals a line-by-line replica of ``BernoulliRBM._fit`` for the
same draws (tests/test_rbm.py). Reported:

* CPU seconds per epoch (process time, mean over the epochs trained; the machine is shared, so only
  ratios measured in this one process mean much) and the ratio peer / bayesdl, against sklearn in
  float32 AND in float64 (sklearn keeps float64 input as float64, the usual numpy default, and
  float32 input as float32). bayesdl runs with its default ``compute_dtype="auto"`` (bfloat16 products
  where the CPU has AMX or AVX512-BF16, float32 elsewhere, see ``bayesdl.ops.hardware``); the other
  precision is measured too where it is native (``--all-precisions`` adds emulated bfloat16).
* A measured floor per precision: the same number of updates doing only the unavoidable work of a step
  with float32 master weights and the layouts the step uses (see :func:`product_floor`), alone and with the
  step's uniform draws (128400 per update, drawn as in training), and the three products alone. The
  target row compares bayesdl's default time with the floor (with draws) of the fastest precision measured.
* The AIS test log-likelihood in nats after the same number of epochs, for several seeds per library
  (mean and standard error over seeds), each model scored with bayesdl's AIS (sklearn's weights are
  copied into a bayesdl RBM): the identical algorithm (visiting the minibatches in sklearn's fixed order,
  without the trainer's reshuffling every epoch), and the "bayesdl recipe" row: the same PCD-1 update at
  the same learning rate, batch, epoch count and per-epoch cost, plus two things Hinton's practical guide
  (UTML TR 2010-003, section 8) and Tieleman (2008) recommend: visible biases started at the data's log base
  rates, and the learning rate annealed to zero over the epochs (cosine). Neither adds work per update.
  PCD at a constant learning rate moves a lot from seed to seed, so a single seed says little about which
  library trains better. (bayesdl starts the persistent chains at the first minibatch, sklearn at hidden
  states of zero.)

The figures of each run, per instruction set, are in ``benchmarks/RESULTS.md``.

Run it with ``OMP_NUM_THREADS=1`` so that both libraries use one core.

    flock /tmp/bayesdl-heavy.lock taskset -c 0 env OMP_NUM_THREADS=1 python benchmarks/bench_rbm.py   # full, ~9 min
    python benchmarks/bench_rbm.py --quick                                 # 6000 images, 2 epochs, one seed
    python benchmarks/bench_rbm.py --exact-check                           # 20 hidden units, exact log Z
    python benchmarks/bench_rbm.py --seed-spread 0,1,2 [--fixed-order]     # bayesdl PCD log-likelihood per seed

``--exact-check`` trains the same way with 20 hidden units on 20000 images, where log Z is exact, to
separate training differences from AIS error and to show the seed-to-seed spread of PCD.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.data import BatchLoader, load_fashion_mnist
from bayesdl.inference import Trainer
from bayesdl.models.rbm import RBM
from bayesdl.ops.hardware import runs_bfloat16_natively
from bayesdl.ops.random_bits import uniform_bits

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

    sk = BernoulliRBM(
        n_components=HIDDEN, learning_rate=LR, batch_size=BATCH, n_iter=epochs, random_state=seed
    )
    start = time.process_time()
    sk.fit(x)
    return sk, (time.process_time() - start) / epochs


def fit_bayesdl(
    x: torch.Tensor,
    method: str,
    epochs: int,
    compute_dtype: str = "auto",
    seed: int = 0,
    shuffle: bool = True,
    recipe: bool = False,
):
    """Train bayesdl's RBM; ``recipe=True`` starts the visible biases at the data's base rates and anneals
    the learning rate to zero over the epochs (cosine), around the same update (see the module docstring)."""
    rbm = RBM(
        x.shape[1], HIDDEN, method=method, k=1, num_chains=BATCH, seed=seed, compute_dtype=compute_dtype
    )
    extra = dict(scheduler="cosine") if recipe else {}
    trainer = Trainer(
        rbm,
        optimizer="sgd",
        lr=LR,
        epochs=epochs,
        batch_size=BATCH,
        device="cpu",
        progress=False,
        seed=seed,
        **extra,
    )
    start = time.process_time()
    if recipe:
        rbm.init_from_data(x)
    # shuffle=False visits the minibatches in a fixed order every epoch, as sklearn's BernoulliRBM does
    trainer.fit(x if shuffle else BatchLoader(x, BATCH, shuffle=False))
    return rbm, (time.process_time() - start) / epochs


def product_floor(
    num_examples: int,
    num_visible: int,
    sampling: bool = False,
    products_only: bool = False,
    dtype: torch.dtype = torch.float32,
) -> float:
    """CPU seconds per epoch of only the unavoidable work of a PCD-1 step in ``dtype`` products, fp32 master weights.

    Per minibatch, in the layouts :meth:`RBM.loss` uses: (bfloat16 only: cast W); the three products (chains'
    h W' for v_neg; [v; v_neg] W for the hidden inputs; [v; v_neg]' s for the gradient, with a contiguous
    transposed copy of [v; v_neg] in bfloat16 as the step makes, with fp32 accumulation); (bfloat16 only: the
    gradient back to fp32); and the SGD update of W. No sigmoid, biases, loss value or trainer. This bounds from
    below the time of any implementation of this design, so sklearn's time divided by it bounds the attainable
    ratio. ``sampling=True`` adds the uniform draws one PCD-1 step needs (one per visible and one per hidden unit
    of every chain, drawn as the step draws them); ``products_only=True`` times the three products alone (inputs
    prepared outside the loop).
    """
    gen = torch.Generator().manual_seed(0)
    weight = 0.01 * torch.randn(num_visible, HIDDEN, generator=gen)
    hidden = (torch.rand(BATCH, HIDDEN, generator=gen) < 0.5).to(dtype)
    stacked = (torch.rand(2 * BATCH, num_visible, generator=gen) < 0.3).to(dtype)
    probs = torch.rand(2 * BATCH, HIDDEN, generator=gen).to(dtype)
    low = dtype != torch.float32
    w_low, stacked_t = weight.to(dtype), stacked.t().contiguous()
    steps = num_examples // BATCH
    start = time.process_time()
    for _ in range(steps):
        if products_only:
            torch.mm(hidden, w_low.t())
            torch.mm(stacked, w_low)
            torch.mm(stacked_t, probs)
            continue
        w_low = weight.to(dtype) if low else weight
        torch.mm(hidden, w_low.t())
        torch.mm(stacked, w_low)
        grad = torch.mm(stacked.t().contiguous(), probs).float() if low else torch.mm(stacked.t(), probs)
        weight.add_(grad, alpha=-1e-9)
        if sampling:
            uniform_bits((BATCH, num_visible))
            uniform_bits((BATCH, HIDDEN))
    return time.process_time() - start


def test_ll(
    rbm: RBM, x_train: torch.Tensor, x_test: torch.Tensor, chains: int, betas: int
) -> tuple[float, float, float]:
    est = rbm.log_partition("ais", num_chains=chains, num_betas=betas, base_data=x_train, seed=0)
    lp = rbm.log_prob(x_test).double()
    return float(lp.mean()), est.log_z_std_err, float(lp.std() / math.sqrt(len(lp)))


def _ll_text(ll: tuple[float, float, float]) -> str:
    return f"{ll[0]:.2f} nats (log Z s.e. {ll[1]:.3f}, test s.e.m. {ll[2]:.2f})"


def _mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error over seeds (0 for one seed)."""
    mean = float(np.mean(values))
    return mean, (float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0)


def _seeds_text(values: dict[int, float]) -> str:
    mean, se = _mean_se(list(values.values()))
    return f"{mean:.2f} +/- {se:.2f} nats (seeds: {', '.join(f'{v:.1f}' for v in values.values())})"


def precisions(all_precisions: bool = False) -> list[str]:
    """The compute dtypes to measure: float32, and bfloat16 where this CPU runs it natively (or when asked)."""
    return ["float32"] + (["bfloat16"] if all_precisions or runs_bfloat16_natively("cpu") else [])


def main(
    quick: bool = False, seeds: tuple[int, ...] | None = None, all_precisions: bool = False
) -> list[dict]:
    torch.manual_seed(0)
    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    epochs, chains, betas = 10, 100, 5000
    # BENCH_RBM_SEEDS (comma-separated) overrides the seeds of a run through run_all, e.g. on a busy machine
    seeds = seeds or tuple(int(v) for v in os.environ.get("BENCH_RBM_SEEDS", "0,1,2").split(","))
    if quick:
        x_train, x_test = x_train[:6000], x_test[:1000]
        epochs, chains, betas, seeds = 2, 50, 1000, (0,)
    x32 = x_train.numpy().astype(np.float32)
    x64 = x32.astype(np.float64)
    size = f"{len(x_train)}x{x_train.shape[1]}"
    dtypes = precisions(all_precisions)
    default = "bfloat16" if RBM(2, 2)._uses_bfloat16() else "float32"  # what compute_dtype="auto" means here
    print(
        f"CPU kernels {torch.backends.cpu.get_cpu_capability()}; native bfloat16: {runs_bfloat16_natively('cpu')}; "
        f"compute_dtype='auto' resolves to {default}; measuring {dtypes}"
    )

    fit_bayesdl(x_train[:1000], "pcd", 1)  # warm-up: first-call imports and allocations
    sk64, sk64_s = fit_sklearn(x64, 1)
    cd1, cd1_s = fit_bayesdl(x_train, "cd", 1)
    # each floor is the least of three timings (a lower bound is best estimated by the fastest run on a shared machine)
    floors = {
        d: {
            kind: min(
                product_floor(len(x_train), x_train.shape[1], dtype=getattr(torch, d), **options)
                for _ in range(3)
            )
            for kind, options in (
                ("floor", {}),
                ("sampling", {"sampling": True}),
                ("products", {"products_only": True}),
            )
        }
        for d in dtypes
    }
    sk_runs, default_runs, recipe_runs = {}, {}, {}
    precision_runs: dict[str, dict] = {d: {} for d in dtypes if d != default}
    for seed in seeds:
        sk_runs[seed] = fit_sklearn(x32, epochs, seed)
        default_runs[seed] = fit_bayesdl(
            x_train, "pcd", epochs, "auto", seed, shuffle=False
        )  # sklearn's batch order
        for d in precision_runs:
            precision_runs[d][seed] = fit_bayesdl(x_train, "pcd", epochs, d, seed, shuffle=False)
        recipe_runs[seed] = fit_bayesdl(x_train, "pcd", epochs, "auto", seed, recipe=True)
    sk32_s = float(np.mean([t for _, t in sk_runs.values()]))
    pcd_s = float(np.mean([t for _, t in default_runs.values()]))
    recipe_s = float(np.mean([t for _, t in recipe_runs.values()]))
    sk_ll = {
        seed: test_ll(sklearn_rbm_to_bayesdl(m), x_train, x_test, chains, betas)
        for seed, (m, _) in sk_runs.items()
    }
    bd_ll = {seed: test_ll(m, x_train, x_test, chains, betas) for seed, (m, _) in default_runs.items()}
    recipe_ll = {seed: test_ll(m, x_train, x_test, chains, betas) for seed, (m, _) in recipe_runs.items()}

    task = f"1 epoch, binarised Fashion-MNIST {size}, {HIDDEN} hidden, batch {BATCH}"
    sk32 = ("sklearn BernoulliRBM (PCD, float32)", f"{sk32_s:.2f} s")
    sk64_ = ("sklearn BernoulliRBM (PCD, float64, its dtype for float64 numpy input)", f"{sk64_s:.2f} s")

    def speed(what: str, peer: tuple[str, str], peer_s: float, fig: str, secs: float, note: str = "") -> dict:
        return {
            "task": f"{task}: CPU s/epoch, {what}",
            "peer": peer[0],
            "peer_figure": peer[1],
            "bayesdl_figure": f"{secs:.2f} s ({fig})",
            "ratio": f"{peer_s / secs:.2f}x{note}",
        }

    auto = f"default compute_dtype='auto' = {default}"
    rows = [
        speed(f"PCD, sklearn float32, bayesdl {auto}", sk32, sk32_s, f"PCD, {default}", pcd_s),
        speed(f"PCD, bayesdl {auto} vs sklearn float64", sk64_, sk64_s, f"PCD, {default}", pcd_s),
        speed(f"bayesdl CD-1 ({auto}) vs sklearn PCD float32", sk32, sk32_s, f"CD-1, {default}", cd1_s),
        speed(
            f"bayesdl recipe (PCD + base-rate biases + cosine lr decay; {auto}) vs sklearn float32",
            sk32,
            sk32_s,
            f"recipe, {default}",
            recipe_s,
        ),
    ]
    for d, runs in precision_runs.items():
        secs = float(np.mean([t for _, t in runs.values()]))
        native = "native" if runs_bfloat16_natively("cpu") or d == "float32" else "emulated on this CPU"
        rows.append(speed(f"PCD, bayesdl compute_dtype='{d}' ({native})", sk32, sk32_s, f"PCD, {d}", secs))
    for d, f in floors.items():
        rows += [
            speed(
                f"floor = {d} products + weight update only (no sampling, no trainer)",
                sk32,
                sk32_s,
                f"{d} floor",
                f["floor"],
                " (the most any step of this design could reach)",
            ),
            speed(
                f"{d} floor + the uniform draws of PCD-1 (128400 per update)",
                sk32,
                sk32_s,
                f"{d} floor + sampling",
                f["sampling"],
                " (ceiling with torch's generator)",
            ),
            speed(
                f"the three {d} products alone",
                sk32,
                sk32_s,
                f"{d} products only",
                f["products"],
                " (products alone)",
            ),
        ]
    fastest = min(floors, key=lambda d: floors[d]["sampling"])
    best = floors[fastest]
    met = pcd_s <= 1.25 * best["sampling"]
    rows.append(
        {
            "task": f"{task}: target, default PCD time within 1.25x of the fastest precision's floor ({fastest}, "
            "products + update + the step's uniform draws)",
            "peer": f"{fastest} floor + sampling",
            "peer_figure": f"{best['sampling']:.2f} s (floor without draws {best['floor']:.2f} s)",
            "bayesdl_figure": f"{pcd_s:.2f} s (PCD, {default})",
            "ratio": f"{pcd_s / best['sampling']:.2f}x the floor with draws, {pcd_s / best['floor']:.2f}x without: "
            f"{'met' if met else 'NOT met'}",
        }
    )
    ll_task = f"AIS test log-likelihood after {epochs} epochs ({len(x_test)} test images; AIS {chains} chains, {betas} betas)"
    for seed in seeds:
        rows.append(
            {
                "task": f"{ll_task}, PCD seed {seed}, sklearn float32, bayesdl {auto}, sklearn's fixed minibatch order",
                "peer": "sklearn BernoulliRBM weights scored by bayesdl AIS",
                "peer_figure": _ll_text(sk_ll[seed]),
                "bayesdl_figure": _ll_text(bd_ll[seed]),
                "ratio": f"{bd_ll[seed][0] - sk_ll[seed][0]:+.2f} nats (bayesdl - sklearn)",
            }
        )
    sk_vals = {s_: sk_ll[s_][0] for s_ in seeds}

    def over_seeds(setting: str, peer: str, ours: dict[int, tuple[float, float]]) -> dict:
        values = {s_: ours[s_][0] for s_ in seeds}
        gap = _mean_se(list(values.values()))[0] - _mean_se(list(sk_vals.values()))[0]
        verdict = "no worse: met" if gap >= 0 else "worse: NOT met"
        return {
            "task": f"{ll_task}, {setting}, mean +/- s.e. over seeds {list(seeds)}",
            "peer": peer,
            "peer_figure": _seeds_text(sk_vals),
            "bayesdl_figure": _seeds_text(values),
            "ratio": f"{gap:+.2f} nats (bayesdl - sklearn; {verdict})",
        }

    scored = "sklearn BernoulliRBM weights scored by bayesdl AIS"
    rows.append(
        over_seeds(f"identical PCD algorithm ({auto}, sklearn's fixed minibatch order)", scored, bd_ll)
    )
    rows.append(
        over_seeds(
            "bayesdl recipe (same PCD-1, lr, batch, epochs; + base-rate visible biases, cosine lr decay; "
            f"{auto}, {recipe_s:.2f} s/epoch)",
            scored,
            recipe_ll,
        )
    )
    for d, runs in precision_runs.items():
        ll = {seed: test_ll(m, x_train, x_test, chains, betas) for seed, (m, _) in runs.items()}
        rows.append(
            over_seeds(
                f"identical PCD algorithm with bayesdl compute_dtype='{d}' (sklearn's fixed minibatch order)",
                scored,
                ll,
            )
        )
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
        print(
            f"bayesdl PCD, {epochs} epochs, seed {seed}, {'reshuffled' if shuffle else 'fixed'} minibatches: "
            f"AIS test log-likelihood {out[seed]:.2f} nats ({len(x_test)} test images; AIS {chains} chains, {betas} betas)"
        )
    return out


def exact_check(
    hidden: int = 20, num_train: int = 20000, epochs: int = 10, seeds: tuple[int, ...] = (0, 1)
) -> dict[str, float]:
    """Test log-likelihood with exact log Z for sklearn's and bayesdl's PCD (several seeds each)."""
    from sklearn.neural_network import BernoulliRBM

    x_train, _ = load_fashion_mnist("train", binarize="static", seed=0)
    x_test, _ = load_fashion_mnist("test", binarize="static", seed=1)
    x_train, x_test = x_train[:num_train], x_test[:2000]
    out = {}
    for seed in seeds:
        sk = BernoulliRBM(
            n_components=hidden, learning_rate=LR, batch_size=BATCH, n_iter=epochs, random_state=seed
        )
        sk.fit(x_train.numpy())
        out[f"sklearn seed {seed}"] = float(sklearn_rbm_to_bayesdl(sk).log_prob(x_test).mean())
        rbm = RBM(x_train.shape[1], hidden, method="pcd", num_chains=BATCH, seed=seed)
        Trainer(
            rbm,
            optimizer="sgd",
            lr=LR,
            epochs=epochs,
            batch_size=BATCH,
            device="cpu",
            progress=False,
            seed=seed,
        ).fit(x_train)
        out[f"bayesdl seed {seed}"] = float(rbm.log_prob(x_test).mean())
    for name, value in out.items():
        print(
            f"{hidden} hidden, {epochs} epochs PCD, exact log Z: {name}: test log-likelihood {value:.2f} nats"
        )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6000 training images, 2 epochs, short AIS")
    parser.add_argument(
        "--exact-check", action="store_true", help="20 hidden units with exact log Z, two seeds per library"
    )
    parser.add_argument(
        "--seed-spread",
        type=str,
        default=None,
        help="comma-separated seeds: bayesdl PCD log-likelihood per seed",
    )
    parser.add_argument(
        "--fixed-order",
        action="store_true",
        help="with --seed-spread: no reshuffling between epochs (as sklearn)",
    )
    parser.add_argument(
        "--seeds",
        type=str,
        default=None,
        help="comma-separated seeds for the likelihood rows (default 0,1,2)",
    )
    parser.add_argument(
        "--all-precisions", action="store_true", help="also bfloat16 where this CPU only emulates it (slow)"
    )
    args = parser.parse_args()
    if args.seed_spread:
        seed_spread(
            tuple(int(s) for s in args.seed_spread.split(",")), shuffle=not args.fixed_order, quick=args.quick
        )
    elif args.exact_check:
        exact_check()
    else:
        main(
            quick=args.quick,
            seeds=tuple(int(s) for s in args.seeds.split(",")) if args.seeds else None,
            all_precisions=args.all_precisions,
        )
