"""Where the time of one Bayes-by-Backprop training step goes (bench_bnn's task), bayesdl's default against bayesian-torch.

Profiles steps of the digits MLP 64-400-400-10 (batch 100) with ``torch.profiler`` and sums each operator's own CPU
time into groups: matrix products (mm/addmm/bmm), the optimizer (fused or for-each Adam), noise draws (randn/normal_),
the rest of the tensor work (elementwise ops and reductions), and the remainder of the wall time (Python, dispatch,
the autograd engine). Run it like bench_bnn, pinned to one core:

    flock /tmp/bayesdl-heavy.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=. python benchmarks/profile_bnn.py
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from bayesdl.data import load_digits
from bayesdl.models.bnn_bbb import BayesByBackprop
from bayesdl.models.nets import MLP
from bayesdl.nn.priors import GaussianPrior

GROUPS = {
    "products": ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul"),
    "optimizer": ("aten::_fused_adam", "aten::_foreach_"),
    "noise": ("aten::randn", "aten::normal_", "aten::randn_like"),
}
STEPS, BATCH = 60, 100


def _group(name: str) -> str:
    for group, prefixes in GROUPS.items():
        if name.startswith(prefixes):
            return group
    return "other tensor work"


def breakdown(step, steps: int = STEPS) -> dict[str, float]:
    """ms per step of each group (operators' self CPU time) and of the rest of the wall time."""
    for _ in range(10):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        wall = time.perf_counter() - start
    totals = {group: 0.0 for group in (*GROUPS, "other tensor work")}
    for event in prof.key_averages():
        if event.key.startswith("aten::"):
            totals[_group(event.key)] += event.self_cpu_time_total / 1000 / steps
    # the profiler's own overhead inflates the wall time; time the same steps without it for the total
    start = time.perf_counter()
    for _ in range(steps):
        step()
    plain = (time.perf_counter() - start) * 1000 / steps
    totals["Python, dispatch, autograd (wall time - operators)"] = max(
        0.0, wall * 1000 / steps - sum(totals.values())
    )
    totals["wall time per step without the profiler"] = plain
    return totals


def bayesdl_step(x, y):
    model = BayesByBackprop(
        MLP(64, [400, 400], 10),
        prior=GaussianPrior(1.0),
        posterior_std_init=float(F.softplus(torch.tensor(-3.0))),
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, fused=True)  # the Trainer's default for this model
    gen = torch.Generator().manual_seed(0)

    def step():
        idx = torch.randint(len(x), (BATCH,), generator=gen)
        opt.zero_grad(set_to_none=True)
        model.loss(x[idx], y[idx], num_data=len(x)).backward()
        opt.step()

    return step


def bayesian_torch_step(x, y, fused=False):
    from bayesian_torch.layers import LinearReparameterization

    layers = torch.nn.ModuleList(
        [
            LinearReparameterization(a, b, prior_variance=1.0, posterior_rho_init=-3.0)
            for a, b in [(64, 400), (400, 400), (400, 10)]
        ]
    )
    opt = torch.optim.Adam(layers.parameters(), lr=3e-3, fused=fused)
    gen = torch.Generator().manual_seed(0)

    def step():
        idx = torch.randint(len(x), (BATCH,), generator=gen)
        opt.zero_grad(set_to_none=True)
        h, kl = x[idx], 0.0
        for k, layer in enumerate(layers):
            h, layer_kl = layer(h)
            kl = kl + layer_kl
            if k < 2:
                h = F.relu(h)
        (F.cross_entropy(h, y[idx]) + kl / len(x)).backward()
        opt.step()

    return step


def main() -> None:
    torch.manual_seed(0)
    x, y = load_digits("train")
    print(
        f"CPU kernels {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} thread(s); ms per step, {STEPS} steps"
    )
    results = {
        "bayesdl default": breakdown(bayesdl_step(x, y)),
        "bayesian-torch": breakdown(bayesian_torch_step(x, y)),
        "bayesian-torch, fused Adam": breakdown(bayesian_torch_step(x, y, fused=True)),
    }
    names = list(next(iter(results.values())))
    print(f"{'':52s}" + "".join(f"{k:>28s}" for k in results))
    for name in names:
        print(f"{name:52s}" + "".join(f"{r[name]:28.3f}" for r in results.values()))


if __name__ == "__main__":
    main()
