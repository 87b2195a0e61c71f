"""Hot paths that go through the output heads, old code against new in one process (interleaved rounds).

Copy the old package under another name first (its imports are all relative), then run from the repository root:

    cp -r /path/to/old/bayesdl /tmp/old/bayesdl_old
    PYTHONPATH=$PWD:/tmp/old OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bench_heads_hotpaths.py --old bayesdl_old

For each case it compares the losses of both on the same weights (bit for bit where the formula did not change), then reports the
median over rounds of new/old time. Ratios are meaningful under load; absolute times are not.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

import torch


def _time(fn, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def _cases(pkg):
    ar, vae = (
        importlib.import_module(pkg + ".models.autoregressive"),
        importlib.import_module(pkg + ".models.vae"),
    )
    gen = torch.Generator().manual_seed(0)
    binary = torch.bernoulli(torch.full((256, 64), 0.5), generator=gen)
    levels = torch.randint(0, 16, (256, 64), generator=gen).float()
    images = torch.bernoulli(torch.full((64, 1, 8, 8), 0.5), generator=gen)
    image_levels = torch.randint(0, 256, (64, 1, 8, 8), generator=gen).float()
    return {
        "MADE bernoulli log_prob+backward": (lambda: ar.MADE(64, [256, 256], num_masks=1), binary),
        "MADE levels(16) log_prob+backward": (
            lambda: ar.MADE(64, [256], likelihood="levels", num_levels=16),
            levels,
        ),
        "NADE log_prob+backward": (lambda: ar.NADE(64, 256), binary),
        "PixelCNN bernoulli log_prob+backward": (
            lambda: ar.PixelCNN(1, 8, num_layers=4, hidden_channels=32),
            images,
        ),
        "PixelCNN levels log_prob+backward": (
            lambda: ar.PixelCNN(1, 8, num_layers=4, hidden_channels=32, likelihood="levels"),
            image_levels,
        ),
        "VAE bernoulli ELBO+backward": (
            lambda: vae.VAE(
                vae.MLPEncoder([64], 8, hidden_sizes=[256]), vae.MLPDecoder(8, [64], hidden_sizes=[256])
            ),
            binary,
        ),
        "VAE levels(256) ELBO+backward": (
            lambda: vae.VAE(
                vae.MLPEncoder([64], 8, hidden_sizes=[256]),
                vae.MLPDecoder(8, [64], hidden_sizes=[256], likelihood="levels"),
            ),
            torch.randint(0, 256, (256, 64), generator=gen).float(),
        ),
        "VAE gaussian ELBO+backward": (
            lambda: vae.VAE(
                vae.MLPEncoder([64], 8, hidden_sizes=[256]),
                vae.MLPDecoder(8, [64], hidden_sizes=[256], likelihood="gaussian"),
            ),
            torch.randn(256, 64, generator=gen),
        ),
    }


def _step(model, x):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(0)  # the VAE's reparameterisation noise: the same draws for old and new
    value = model.loss(x) if hasattr(model, "encoder") else -model.log_prob(x).mean()
    value.backward()
    return value.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", required=True, help="the importable name of the old package copy")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    new_cases, old_cases = _cases("bayesdl"), _cases(args.old)
    for name, (make_new, x) in new_cases.items():
        new = make_new()
        old = old_cases[name][0]()
        old.load_state_dict(new.state_dict())
        a, b = _step(new, x), _step(old, x)
        same = (
            "identical"
            if torch.equal(a, b)
            else f"|new-old| {float((a - b).abs()):.2e} of {float(b.abs()):.3g}"
        )
        ratios = []
        for _ in range(args.rounds):
            t_old = _time(lambda m=old, v=x: _step(m, v), args.repeats)
            t_new = _time(lambda m=new, v=x: _step(m, v), args.repeats)
            ratios.append(t_new / t_old)
        print(
            f"{name:38s} {same:28s} new/old median {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f}, {args.rounds} rounds x {args.repeats})"
        )


if __name__ == "__main__":
    main()
