"""Profile: where a NUTS leapfrog step's time goes, against the potential-and-gradient evaluation alone.

For each model, with C chains at a point from a short warmup, it times (minimum over repeats, microseconds):
- ``potential``: one batched U and dU/dz call (the traced graph ``sample_posterior`` uses);
- ``step``: one traced ``trajectory_step`` (leapfrog + potential + multinomial bookkeeping);
- ``leapfrog in NUTS``: a full ``nuts_transition`` divided by the leapfrog steps it took (adds the
  Python tree-building loop: no-U-turn checks, checkpoints, merges and the per-step host check).

Run: ``flock /tmp/bayesdl-heavy.lock taskset -c 0 env OMP_NUM_THREADS=1 PYTHONPATH=. python
benchmarks/profile_nuts_step.py [--chains 4] [--only NAME ...]``
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


def profile(name: str, chains: int) -> dict:
    from bayesdl.inference.mcmc import sample_posterior
    from bayesdl.inference.mcmc.nuts import ChainState, compile_trajectory_step, nuts_transition
    from bayesdl.inference.mcmc.potential import BatchedPotential
    from bayesdl.models.posteriordb import load_posteriordb

    case = load_posteriordb(name)
    post = sample_posterior(case.model, *case.args, num_chains=chains, num_warmup=150, num_samples=1, seed=0,
                            progress=False)
    pot = BatchedPotential(case.model, case.args, {}, chains)
    z = post.unconstrained[:, -1].contiguous()
    u, g = pot.energy_and_grad(z)
    state = ChainState(z, u, g)
    inv_mass, step = post.inv_mass, post.step_size
    step_fn = compile_trajectory_step(pot.compiled_energy_and_grad, state, inv_mass=inv_mass)
    t_pot = _best(lambda: pot.energy_and_grad(z))
    flag = torch.ones(chains, dtype=torch.bool)
    args = (z, torch.zeros_like(z), g, step.unsqueeze(-1) * 0.5, inv_mass, u + 0.0, flag, torch.full_like(u, 0.5),
            torch.full_like(u, float("-inf")), z, u, g, u, torch.zeros_like(u), torch.zeros(chains, dtype=torch.long),
            ~flag)
    t_step = _best(lambda: step_fn(*args))
    gen = torch.Generator().manual_seed(0)
    steps, start = 0, time.perf_counter()
    for _ in range(60):
        state, stats = nuts_transition(state, step, inv_mass, pot.energy_and_grad, gen, step_fn=step_fn)
        steps += int(stats["n_steps"].max())  # batched: every chain pays for the longest tree
    t_nuts = (time.perf_counter() - start) / steps
    return {"potential": t_pot * 1e6, "step": t_step * 1e6, "nuts": t_nuts * 1e6}


def main() -> None:
    from bayesdl.models.posteriordb import POSTERIORDB_NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--only", nargs="*", default=None)
    a = parser.parse_args()
    torch.set_num_threads(1)
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}, {a.chains} chains; microseconds")
    print(f"{'posterior':42s} {'potential':>10s} {'step':>8s} {'leapfrog in NUTS':>17s} {'NUTS / potential':>17s}")
    for name in a.only or POSTERIORDB_NAMES:
        r = profile(name, a.chains)
        print(f"{name:42s} {r['potential']:10.0f} {r['step']:8.0f} {r['nuts']:17.0f} {r['nuts'] / r['potential']:17.2f}",
              flush=True)


if __name__ == "__main__":
    main()
