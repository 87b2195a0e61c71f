"""Profile: where a NUTS leapfrog step's time goes, against the potential-and-gradient evaluation alone.

For each model, with C chains at a point from a short warmup, it times (minimum over repeats, microseconds):
- ``potential``: one batched U and dU/dz call (the TorchScript graph ``sample_posterior`` uses);
- ``leaf jit`` / ``leaf inductor``: one call of the traced / Inductor-compiled tree leaf (leapfrog,
  potential, multinomial choice and no-U-turn checks);
- ``NUTS jit`` / ``NUTS inductor``: a full ``nuts_transition`` divided by the leapfrog steps it took
  (adds the doubling boundaries, the per-transition set-up and the host loop); batched chains pay for
  the longest tree, so the steps counted are the per-transition maximum over chains.
The Inductor compile time (both kernels, seconds) is printed too.

Absolute times depend on the machine's load; compare columns within one run.

Run: ``taskset -c 1 env OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/profile_nuts_step.py
[--chains 4] [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import time

import torch


def _best(fn, repeats: int = 5, number: int = 50) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _per_leapfrog(state, step, inv_mass, pot, kernels, transitions: int = 40) -> float:
    from bayesdl.inference.mcmc.nuts import nuts_transition

    gen = torch.Generator().manual_seed(0)
    best = float("inf")
    for _ in range(3):
        steps, start = 0, time.perf_counter()
        for _ in range(transitions):
            state, stats = nuts_transition(state, step, inv_mass, pot.energy_and_grad, gen, kernels=kernels)
            steps += int(stats["n_steps"].max())
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def profile(name: str, chains: int) -> dict:
    from bayesdl.inference.mcmc import sample_posterior
    from bayesdl.inference.mcmc.compiled_kernels import _examples, compile_nuts_kernels
    from bayesdl.inference.mcmc.nuts import ChainState
    from bayesdl.inference.mcmc.potential import BatchedPotential
    from bayesdl.models.posteriordb import load_posteriordb

    case = load_posteriordb(name)
    post = sample_posterior(
        case.model, *case.args, num_chains=chains, num_warmup=100, num_samples=1, seed=0, progress=False
    )
    pot = BatchedPotential(case.model, case.args, {}, chains)
    z = post.unconstrained[:, -1].contiguous()
    u, g = pot.energy_and_grad(z)
    state = ChainState(z, u, g)
    inv_mass, step = post.inv_mass, post.step_size
    jit = compile_nuts_kernels(pot.compiled_energy_and_grad, state, inv_mass, backend="jit")
    start = time.perf_counter()
    ind = compile_nuts_kernels(pot.compiled_energy_and_grad, state, inv_mass, backend="inductor")
    compile_seconds = time.perf_counter() - start
    leaf_args = _examples(state, inv_mass, 10)[0]
    with torch.no_grad():
        out = {
            "potential": _best(lambda: pot.energy_and_grad(z)),
            "leaf jit": _best(lambda: jit.leaf(*leaf_args)),
            "leaf inductor": _best(lambda: ind.leaf(*leaf_args)) if ind else float("nan"),
            "NUTS jit": _per_leapfrog(state, step, inv_mass, pot, jit),
            "NUTS inductor": _per_leapfrog(state, step, inv_mass, pot, ind) if ind else float("nan"),
        }
    out = {k: v * 1e6 for k, v in out.items()}
    out["compile s"] = compile_seconds
    return out


def main() -> None:
    from bayesdl.models.posteriordb import POSTERIORDB_NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--only", nargs="*", default=None)
    a = parser.parse_args()
    torch.set_num_threads(1)
    cols = ["potential", "leaf jit", "leaf inductor", "NUTS jit", "NUTS inductor", "compile s"]
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}, {a.chains} chains; microseconds")
    print(f"{'posterior':42s} " + " ".join(f"{c:>13s}" for c in cols))
    for name in a.only or POSTERIORDB_NAMES:
        r = profile(name, a.chains)
        print(f"{name:42s} " + " ".join(f"{r[c]:13.1f}" for c in cols), flush=True)


if __name__ == "__main__":
    main()
