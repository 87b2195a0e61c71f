"""Benchmark: bayesdl's DDPM against diffusers' schedulers on the same data and the same network, in one process.

* Training on 2-D toy data (two moons): a fixed number of Adam steps with the simple eps-MSE loss.
  bayesdl runs ``DDPM.loss``; the peer draws t and noise itself and calls ``DDPMScheduler.add_noise``.
  Both use identical copies of one DenoisingMLP and the same batches. Figure: training steps per second.
* Sampling 8x8 single-channel images with a small U-Net: DDIM with 50 steps and ancestral sampling with
  1000 steps. bayesdl runs ``DDPM.ddim_sample`` / ``DDPM.sample``; the peer runs ``DDIMScheduler.step`` /
  ``DDPMScheduler.step`` loops around the same network. Figure: images per second.

ratio = bayesdl figure / peer figure (above 1: bayesdl is faster). Each timing is the median of
interleaved repeats. Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_diffusion.py [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from table import print_rows  # benchmarks/table.py

from bayesdl.data import toy_density
from bayesdl.models.diffusion import DDPM
from bayesdl.nn import DenoisingMLP, UNet


def _time(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _training(quick: bool) -> dict:
    from diffusers import DDPMScheduler

    steps, batch = (100, 256) if quick else (500, 256)
    data = toy_density("two_moons", 20000, seed=0)
    data = data / data.std()
    torch.manual_seed(0)
    net = DenoisingMLP(2, hidden=128, num_blocks=3)
    ours = DDPM(copy.deepcopy(net), data_shape=[2], num_steps=1000, schedule="linear")
    peer_net = copy.deepcopy(net)
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    batches = [
        data[torch.randint(0, len(data), (batch,), generator=torch.Generator().manual_seed(i))]
        for i in range(steps)
    ]
    opt_ours = torch.optim.Adam(ours.parameters(), lr=1e-3)
    opt_peer = torch.optim.Adam(peer_net.parameters(), lr=1e-3)

    def run_ours():
        for x0 in batches:
            opt_ours.zero_grad(set_to_none=True)
            ours.loss(x0).backward()
            opt_ours.step()

    def run_peer():
        for x0 in batches:
            opt_peer.zero_grad(set_to_none=True)
            t = torch.randint(0, 1000, (len(x0),))
            noise = torch.randn_like(x0)
            x_t = scheduler.add_noise(x0, noise, t)
            # diffusers numbers steps 0..T-1, bayesdl 1..T: give the network the same time values
            loss = (peer_net(x_t, (t + 1).float()) - noise).pow(2).mean()
            loss.backward()
            opt_peer.step()

    run_ours(), run_peer()  # warm up
    repeats = 3
    ours_t, peer_t = [], []
    for _ in range(repeats):
        ours_t += _time(run_ours, 1)
        peer_t += _time(run_peer, 1)
    ours_sps, peer_sps = steps / statistics.median(ours_t), steps / statistics.median(peer_t)
    return dict(
        task=f"train DDPM on 2-D two moons ({steps} steps, batch {batch}, MLP 128x3)",
        peer="diffusers DDPMScheduler.add_noise",
        peer_figure=f"{peer_sps:.1f} steps/s",
        bayesdl_figure=f"{ours_sps:.1f} steps/s",
        ratio=f"{ours_sps / peer_sps:.2f}",
    )


def _sampling(quick: bool) -> list[dict]:
    from diffusers import DDIMScheduler, DDPMScheduler

    n = 16
    torch.manual_seed(0)
    net = UNet(1, base_channels=16, channel_mults=[1, 2], attention_levels=[1])
    torch.nn.init.normal_(net.conv_out.weight, std=0.02)  # an untrained but non-trivial network
    net.eval()
    model = DDPM(net, data_shape=[1, 8, 8], num_steps=1000, schedule="linear", variance="beta")
    ddpm = DDPMScheduler(
        num_train_timesteps=1000, beta_schedule="linear", variance_type="fixed_large", clip_sample=False
    )
    ddim = DDIMScheduler(
        num_train_timesteps=1000, beta_schedule="linear", clip_sample=False, set_alpha_to_one=True
    )
    ddim.set_timesteps(50)

    @torch.no_grad()
    def peer_loop(scheduler, timesteps, **kw):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, 1, 8, 8, generator=g)
        for t in timesteps:
            eps = net(x, torch.full((n,), float(t) + 1))
            x = scheduler.step(eps, t, x, generator=g, **kw).prev_sample
        return x

    rows = []
    for label, ours_fn, peer_fn in [
        (
            "DDIM, 50 steps, eta=0",
            lambda: model.ddim_sample(n, num_steps=50, seed=0),
            lambda: peer_loop(ddim, ddim.timesteps, eta=0.0),
        ),
        ("ancestral, 1000 steps", lambda: model.sample(n, seed=0), lambda: peer_loop(ddpm, ddpm.timesteps)),
    ]:
        ours_fn(), peer_fn()
        repeats = 1 if (quick and "ancestral" in label) else 3
        ours_t, peer_t = [], []
        for _ in range(repeats):
            ours_t += _time(ours_fn, 1)
            peer_t += _time(peer_fn, 1)
        ours_ips, peer_ips = n / statistics.median(ours_t), n / statistics.median(peer_t)
        peer_name = "diffusers DDIMScheduler.step" if "DDIM" in label else "diffusers DDPMScheduler.step"
        rows.append(
            dict(
                task=f"sample {n} images 1x8x8, small U-Net, {label}",
                peer=peer_name,
                peer_figure=f"{peer_ips:.2f} images/s",
                bayesdl_figure=f"{ours_ips:.2f} images/s",
                ratio=f"{ours_ips / peer_ips:.2f}",
            )
        )
    return rows


def main(quick: bool = False) -> list[dict]:
    """Run the benchmark and print a table; returns rows with task, peer, peer_figure, bayesdl_figure, ratio."""
    torch.set_num_threads(1)
    rows = [_training(quick)] + _sampling(quick)
    print_rows(rows)
    print("ratio = bayesdl / peer (above 1: bayesdl faster); same network, data and process; CPU, 1 thread")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    main(quick=parser.parse_args().quick)
