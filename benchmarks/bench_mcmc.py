"""Benchmark: bayesdl's batched-chain NUTS against NumPyro's and Pyro's NUTS, in one process, on three models.

Models (float64, the same priors in every library):
- logistic regression on breast cancer (30 standardised features + intercept; w ~ N(0, 1), b ~ N(0, 5^2));
- a non-centred hierarchical normal model with 50 groups of 8 observations (53 dims):
  y_gj ~ N(mu + tau eta_g, sigma), eta_g ~ N(0, 1), mu ~ N(0, 5), tau ~ half-N(0, 5), sigma ~ half-N(0, 5);
- eight schools, non-centred (10 dims).

Samplers: bayesdl (all chains as one batched computation); NumPyro with ``chain_method="vectorized"``
(its batched-chain mode on one device: the fair peer for bayesdl's batched chains) and with
``chain_method="sequential"`` (one chain after another, each a compiled loop); Pyro's NUTS (with and
without ``jit_compile``; chains run one after another in this process) on the logistic model only, with
fewer iterations (the table says so). ESS/s is min bulk ESS over all parameters (bayesdl's rank-normalised
ESS for every sampler) divided by end-to-end wall time (set-up, tracing or JIT compilation, warmup and
sampling). The chain-scaling rows run bayesdl and NumPyro vectorised at 4, 16, 64 and 256 chains on the
hierarchical model, with the time per leapfrog step (loop seconds / (iterations x mean steps)).

Run: ``flock /tmp/bayesdl-heavy.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=. python
benchmarks/bench_mcmc.py [--quick]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")


def _min_bulk_ess(samples: dict[str, np.ndarray], names: list[str]) -> float:
    from bayesdl.inference.mcmc import bulk_ess

    return float(min(bulk_ess(np.asarray(samples[k])).min() for k in (names or list(samples))))


def _hierarchical_data(groups: int = 50, per_group: int = 8):
    g = torch.Generator().manual_seed(0)
    effects = 1.0 + 2.0 * torch.randn(groups, 1, generator=g, dtype=torch.float64)
    y = effects + 3.0 * torch.randn(groups, per_group, generator=g, dtype=torch.float64)
    return (y,)


def hierarchical_model(y):
    import pyro
    import pyro.distributions as dist

    zero = y.new_zeros(())
    mu = pyro.sample("mu", dist.Normal(zero, 5.0))
    tau = pyro.sample("tau", dist.HalfNormal(zero + 5.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(zero + 5.0))
    with pyro.plate("group", y.shape[0], dim=-2):
        eta = pyro.sample("eta", dist.Normal(zero, 1.0))
        with pyro.plate("obs", y.shape[1], dim=-1):
            pyro.sample("y", dist.Normal(mu + tau * eta, sigma), obs=y)


def _models() -> dict:
    """name -> (Pyro model, args, NumPyro model, JAX args, parameter names)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as nd

    from bayesdl.experiments.mcmc_logistic import load_breast_cancer_standardized, logistic_model
    from bayesdl.models.eight_schools import eight_schools_data, eight_schools_noncentered

    x, y, _, _ = load_breast_cancer_standardized(seed=0, test_fraction=0.0)

    def np_logistic(x, y):
        w = numpyro.sample("w", nd.Normal(0.0, 1.0).expand([x.shape[1]]).to_event(1))
        b = numpyro.sample("b", nd.Normal(0.0, 5.0))
        with numpyro.plate("data", x.shape[0]):
            numpyro.sample("y", nd.Bernoulli(logits=x @ w + b), obs=y)

    def np_hierarchical(y):
        mu = numpyro.sample("mu", nd.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", nd.HalfNormal(5.0))
        sigma = numpyro.sample("sigma", nd.HalfNormal(5.0))
        with numpyro.plate("group", y.shape[0], dim=-2):
            eta = numpyro.sample("eta", nd.Normal(0.0, 1.0))
            with numpyro.plate("obs", y.shape[1], dim=-1):
                numpyro.sample("y", nd.Normal(mu + tau * eta, sigma), obs=y)

    def np_schools(y, sigma):
        mu = numpyro.sample("mu", nd.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", nd.HalfCauchy(5.0))
        with numpyro.plate("school", y.shape[0]):
            tt = numpyro.sample("theta_tilde", nd.Normal(0.0, 1.0))
            numpyro.sample("y", nd.Normal(mu + tau * tt, sigma), obs=y)

    def jx(args):
        return tuple(jnp.asarray(a.numpy()) for a in args)

    hier = _hierarchical_data()
    schools = eight_schools_data()
    return {
        "logistic regression, breast cancer (31 dims)": (
            logistic_model,
            (x, y),
            np_logistic,
            jx((x, y)),
            ["w", "b"],
        ),
        "non-centred hierarchical normal, 50 groups (53 dims)": (
            hierarchical_model,
            hier,
            np_hierarchical,
            jx(hier),
            ["mu", "tau", "sigma", "eta"],
        ),
        "eight schools, non-centred (10 dims)": (
            eight_schools_noncentered,
            schools,
            np_schools,
            jx(schools),
            ["mu", "tau", "theta_tilde"],
        ),
    }


#: sample_posterior's ``compile=`` for bayesdl's runs (``--compile``)
COMPILE: bool | str = True


def run_bayesdl(model, args, names, chains: int, warmup: int, draws: int) -> dict:
    from bayesdl.inference.mcmc import sample_posterior

    start = time.perf_counter()
    post = sample_posterior(
        model,
        *args,
        num_chains=chains,
        num_warmup=warmup,
        num_samples=draws,
        seed=0,
        progress=False,
        compile=COMPILE,
    )
    seconds = time.perf_counter() - start
    backend = "" if COMPILE is True else f", compile={COMPILE}"
    return {
        "sampler": f"bayesdl NUTS, {chains} chains batched{backend}",
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "seconds": seconds,
        "loop": post.warmup_seconds + post.sampling_seconds,
        "min_ess": _min_bulk_ess({k: v.numpy() for k, v in post.samples.items()}, names),
        "mean_steps": float(post.sample_stats["n_steps"].double().mean()),
    }


def run_numpyro(
    model,
    args,
    names,
    chains: int,
    warmup: int,
    draws: int,
    method: str,
    dense: bool = False,
    loop: bool = False,
) -> dict:
    """NumPyro's NUTS end to end; with ``loop``, also its warmup + sampling loop alone.

    ``MCMC.run`` compiles afresh on every call (a repeated 1 + 1 iteration run costs as much as the
    first), so the loop time is that of a repeated W + S run minus that of a repeated 1 + 1 run, each
    timed around ``jax.block_until_ready``: what is left is the iterations' own cost.
    """
    import jax
    import numpyro
    from numpyro.infer import MCMC, NUTS

    numpyro.enable_x64()

    def timed(w: int, s: int, key: int):
        mcmc = MCMC(
            NUTS(model, target_accept_prob=0.8, dense_mass=dense),
            num_warmup=w,
            num_samples=s,
            num_chains=chains,
            chain_method=method,
            progress_bar=False,
        )
        start = time.perf_counter()
        mcmc.run(jax.random.PRNGKey(key), *args, extra_fields=("num_steps", "diverging"))
        samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        return time.perf_counter() - start, mcmc, samples

    seconds, mcmc, samples = timed(warmup, draws, 0)
    extra = mcmc.get_extra_fields()
    samples = {k: np.asarray(v) for k, v in samples.items()}
    out = {
        "sampler": f"NumPyro NUTS, {chains} chains {method}",
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "seconds": seconds,
        "min_ess": _min_bulk_ess(samples, names),
        "samples": samples,
        "divergences": int(np.asarray(extra["diverging"]).sum()),
        "mean_steps": float(np.asarray(extra["num_steps"]).mean()),
    }
    if loop:
        again = timed(warmup, draws, 1)[0]
        out["loop"] = max(again - timed(1, 1, 1)[0], 1e-9)
    return out


def run_pyro(model, args, names, chains: int, warmup: int, draws: int, jit: bool) -> dict:
    import pyro
    from pyro.infer import MCMC, NUTS

    per_chain: dict[str, list] = {}
    start = time.perf_counter()
    for c in range(chains):
        pyro.set_rng_seed(c)
        kernel = NUTS(model, jit_compile=jit, ignore_jit_warnings=True, target_accept_prob=0.8)
        mcmc = MCMC(kernel, num_samples=draws, warmup_steps=warmup, num_chains=1, disable_progbar=True)
        mcmc.run(*args)
        for k, v in mcmc.get_samples().items():
            per_chain.setdefault(k, []).append(v.numpy())
    seconds = time.perf_counter() - start
    samples = {k: np.stack(v) for k, v in per_chain.items()}
    return {
        "sampler": f"Pyro NUTS jit_compile={jit}, {chains} chains one by one",
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "seconds": seconds,
        "min_ess": _min_bulk_ess(samples, names),
        "mean_steps": float("nan"),
    }


def _print(r: dict) -> None:
    loop = f"{r['loop']:8.1f}" if "loop" in r else f"{'':8s}"
    print(
        f"  {r['sampler']:48s} {r['warmup']:>5d}+{r['draws']:<5d} {r['seconds']:8.1f} {loop} {r['min_ess']:8.0f} "
        f"{r['min_ess'] / r['seconds']:8.1f} {r['mean_steps']:7.1f}",
        flush=True,
    )


def main(quick: bool = False) -> list[dict]:
    """Run every sampler on every model, print the tables, and return rows for ``run_all``."""
    torch.set_num_threads(1)
    n = 200 if quick else 1000
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, cpu capability "
        f"{torch.backends.cpu.get_cpu_capability()}; {n} warmup + {n} draws unless stated"
    )
    print(
        f"  {'sampler':48s} {'warm+draw':>11s} {'total s':>8s} {'loop s':>8s} {'min ESS':>8s} {'ESS/s':>8s} "
        f"{'steps':>7s}"
    )
    rows, ratios = [], {4: [], 64: []}
    for task, (model, args, np_model, np_args, names) in _models().items():
        print(task)
        runs = {}
        for chains in (4, 64):
            m = n // 4 if chains == 64 and quick else n
            runs["bayesdl", chains] = run_bayesdl(model, args, names, chains, m, m)
            runs["vectorized", chains] = run_numpyro(
                np_model, np_args, names, chains, m, m, "vectorized", loop=True
            )
            _print(runs["bayesdl", chains])
            _print(runs["vectorized", chains])
        runs["sequential", 4] = run_numpyro(np_model, np_args, names, 4, n, n, "sequential")
        _print(runs["sequential", 4])
        if task.startswith("logistic"):
            pc, pn = (1, 100) if quick else (2, 250)
            for jit in (True, False):
                runs["pyro", jit] = run_pyro(model, args, names, pc, pn, pn, jit)
                _print(runs["pyro", jit])
        for chains in (4, 64):
            ours, peer = runs["bayesdl", chains], runs["vectorized", chains]
            ratio = (ours["min_ess"] / ours["seconds"]) / (peer["min_ess"] / peer["seconds"])
            ratios[chains].append(ratio)
            rows.append(
                {
                    "task": f"{task}, {chains} chains: min bulk ESS/s",
                    "peer": peer["sampler"],
                    "peer_figure": f"{peer['min_ess'] / peer['seconds']:.1f} ESS/s ({peer['seconds']:.1f} s)",
                    "bayesdl_figure": f"{ours['min_ess'] / ours['seconds']:.1f} ESS/s ({ours['seconds']:.1f} s)",
                    "ratio": f"{ratio:.2f}x",
                }
            )
        seq = runs["sequential", 4]
        ours = runs["bayesdl", 4]
        rows.append(
            {
                "task": f"{task}, 4 chains: min bulk ESS/s",
                "peer": seq["sampler"],
                "peer_figure": f"{seq['min_ess'] / seq['seconds']:.1f} ESS/s",
                "bayesdl_figure": f"{ours['min_ess'] / ours['seconds']:.1f} ESS/s",
                "ratio": f"{(ours['min_ess'] / ours['seconds']) / (seq['min_ess'] / seq['seconds']):.2f}x",
            }
        )
    for chains, values in ratios.items():
        lo, med = min(values), statistics.median(values)
        print(
            f"{chains} chains, bayesdl / NumPyro vectorized ESS/s: min {lo:.2f}x (target >= 1.0x: "
            f"{'MET' if lo >= 1 else 'NOT MET'}), median {med:.2f}x (target >= 1.5x: {'MET' if med >= 1.5 else 'NOT MET'})"
        )

    print("chain scaling, hierarchical model (per-leapfrog time = loop s / (iterations x mean steps))")
    model, args, np_model, np_args, names = _models()["non-centred hierarchical normal, 50 groups (53 dims)"]
    m = 100 if quick else 500
    for chains in (4, 16, 64, 256):
        for r in (
            run_bayesdl(model, args, names, chains, m, m),
            run_numpyro(np_model, np_args, names, chains, m, m, "vectorized", loop=True),
        ):
            per_step = r["loop"] / (2 * m * r["mean_steps"]) * 1e3
            print(
                f"  {r['sampler']:48s} loop {r['loop']:7.1f} s, {per_step:6.2f} ms per leapfrog step, "
                f"ESS/s {r['min_ess'] / r['seconds']:8.1f}",
                flush=True,
            )
            rows.append(
                {
                    "task": f"chain scaling, hierarchical model, {chains} chains ({m}+{m})",
                    "peer": r["sampler"],
                    "peer_figure": f"{per_step:.2f} ms/leapfrog",
                    "bayesdl_figure": f"{r['min_ess'] / r['seconds']:.1f} ESS/s",
                    "ratio": "-",
                }
            )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="200+200 iterations (64 chains 50+50); Pyro 1 chain 100+100"
    )
    parser.add_argument(
        "--compile", default="jit", choices=["jit", "inductor"], help="bayesdl's NUTS kernel backend"
    )
    a = parser.parse_args()
    COMPILE = True if a.compile == "jit" else a.compile
    main(quick=a.quick)
