"""Benchmark: bayesdl's NUTS and NumPyro's NUTS on the nine vendored posteriordb posteriors, in one process.

For each posterior, both samplers run C chains (4 by default) of W warmup + S draws from the same
model (NumPyro translations written here next to the Pyro ones in ``bayesdl.models.posteriordb``), with
the same metric (diagonal, or dense where the table says so). NumPyro runs ``chain_method="vectorized"``
(its batched-chain mode on one device, the fair peer for bayesdl's batched chains). Reported per sampler:

- agreement with the posteriordb reference: every mean and sd within the Bonferroni z of the combined MCSE
  (``compare_to_reference``, family-wise false failure 1e-4) AND every R-hat below 1.01, since the MCSE of chains
  that have not mixed is not trustworthy; the largest R-hat, divergences;
- min bulk ESS over the reference parameters (bayesdl's rank-normalised ESS for both samplers);
- end-to-end seconds (model set-up, tracing or JIT compilation, warmup and sampling) and ESS/s;
- loop seconds: warmup + sampling only. bayesdl's comes from ``Posterior.warmup_seconds +
  sampling_seconds``. NumPyro compiles on every ``MCMC.run`` (a repeated run is no faster), so its loop
  is a repeated W + S run minus a repeated 1 + 1 run, each around ``jax.block_until_ready``
  (``bench_mcmc.run_numpyro``).

Run: ``flock /tmp/bayesdl-heavy.lock taskset -c 0 env OMP_NUM_THREADS=1 PYTHONPATH=. python
benchmarks/bench_posteriordb.py [--quick] [--chains 4] [--iterations 1000] [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import torch

warnings.filterwarnings("ignore")

#: posteriors whose parameters are so correlated that both samplers use a dense metric
DENSE = {"kilpisjarvi_mod-kilpisjarvi", "earnings-logearn_height_male", "kidiq-kidscore_momhsiq"}


#: a sampler agrees with the reference only when its chains also mixed (Vehtari et al. 2021, arXiv:1903.08008)
RHAT_AGREE = 1.01


def numpyro_model(name: str, args: tuple):
    """The NumPyro translation of one posterior and its arguments as JAX arrays."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as nd
    from numpyro.distributions import constraints

    a = tuple(jnp.asarray(x.numpy()) if isinstance(x, torch.Tensor) else x for x in args)

    def flat(shape=()):
        return nd.ImproperUniform(constraints.real, (), shape)

    def regression(x, y, beta_scale=None, sigma_prior="flat", sigma_scale=1.0):
        k = x.shape[1]
        beta = numpyro.sample(
            "beta", flat((k,)) if beta_scale is None else nd.Normal(0.0, beta_scale).expand([k]).to_event(1)
        )
        if sigma_prior == "flat":
            sigma = numpyro.sample("sigma", nd.ImproperUniform(constraints.positive, (), ()))
        elif sigma_prior == "half_cauchy":
            sigma = numpyro.sample("sigma", nd.HalfCauchy(sigma_scale))
        else:
            sigma = numpyro.sample("sigma", nd.HalfNormal(sigma_scale))
        numpyro.sample("y", nd.Normal(x @ beta, sigma), obs=y)

    if name == "eight_schools-eight_schools_noncentered":

        def model(y, sigma):
            mu = numpyro.sample("mu", nd.Normal(0.0, 5.0))
            tau = numpyro.sample("tau", nd.HalfCauchy(5.0))
            with numpyro.plate("school", y.shape[0]):
                tt = numpyro.sample("theta_tilde", nd.Normal(0.0, 1.0))
                theta = numpyro.deterministic("theta", mu + tau * tt)
                numpyro.sample("y", nd.Normal(theta, sigma), obs=y)

        return model, a
    if name == "kidiq-kidscore_momhsiq":
        return (lambda x, y: regression(x, y, sigma_prior="half_cauchy", sigma_scale=2.5)), a
    if name == "sblri-blr":
        return (
            lambda x, y: regression(x, y, beta_scale=10.0, sigma_prior="half_normal", sigma_scale=10.0)
        ), a
    if name in ("earnings-logearn_height_male", "nes1980-nes", "mesquite-logmesquite_logvash"):
        return regression, a
    if name == "kilpisjarvi_mod-kilpisjarvi":

        def model(x, y, ma, sa, mb, sb):
            alpha = numpyro.sample("alpha", nd.Normal(ma, sa))
            beta = numpyro.sample("beta", nd.Normal(mb, sb))
            sigma = numpyro.sample("sigma", nd.ImproperUniform(constraints.positive, (), ()))
            numpyro.sample("y", nd.Normal(alpha + beta * x, sigma), obs=y)

        return model, a
    if name == "arma-arma11":
        from jax import lax

        def model(y):
            mu = numpyro.sample("mu", nd.Normal(0.0, 10.0))
            phi = numpyro.sample("phi", nd.Normal(0.0, 2.0))
            theta = numpyro.sample("theta", nd.Normal(0.0, 2.0))
            sigma = numpyro.sample("sigma", nd.HalfCauchy(2.5))
            previous = jnp.concatenate([jnp.atleast_1d(mu), y[:-1]])
            r = y - mu - phi * previous

            def step(e, rt):
                e = rt - theta * e
                return e, e

            _, err = lax.scan(step, jnp.zeros(()), r)
            numpyro.sample("y", nd.Normal(y - err, sigma), obs=y)

        return model, a
    if name == "gp_pois_regr-gp_regr":

        def model(x, y):
            rho = numpyro.sample("rho", nd.Gamma(25.0, 4.0))
            alpha = numpyro.sample("alpha", nd.HalfNormal(2.0))
            sigma = numpyro.sample("sigma", nd.HalfNormal(1.0))
            d = x[:, None] - x[None, :]
            cov = alpha**2 * jnp.exp(-0.5 * (d / rho) ** 2) + sigma * jnp.eye(x.shape[0])
            numpyro.sample(
                "y", nd.MultivariateNormal(jnp.zeros(x.shape[0]), scale_tril=jnp.linalg.cholesky(cov)), obs=y
            )

        return model, a
    raise ValueError(name)


def run_bayesdl(case, chains: int, warmup: int, draws: int, dense: bool, compile: bool | str = True) -> dict:
    from bayesdl.inference.mcmc import compare_to_reference, sample_posterior

    start = time.perf_counter()
    post = sample_posterior(
        case.model,
        *case.args,
        num_chains=chains,
        num_warmup=warmup,
        num_samples=draws,
        seed=0,
        progress=False,
        dense_mass=dense,
        compile=compile,
    )
    seconds = time.perf_counter() - start
    check = compare_to_reference(
        post.samples, case.reference, divergences=int(post.sample_stats["diverging"].sum())
    )
    return {
        "seconds": seconds,
        "loop": post.warmup_seconds + post.sampling_seconds,
        "check": check,
        "mean_steps": float(post.sample_stats["n_steps"].double().mean()),
    }


def run_numpyro(case, chains: int, warmup: int, draws: int, dense: bool) -> dict:
    from bench_mcmc import run_numpyro as run

    from bayesdl.inference.mcmc import compare_to_reference

    model, args = numpyro_model(case.name, case.args)
    r = run(model, args, [], chains, warmup, draws, "vectorized", dense=dense, loop=True)
    samples = {k: torch.as_tensor(v) for k, v in r["samples"].items()}
    r["check"] = compare_to_reference(samples, case.reference, divergences=r["divergences"])
    return r


def main(
    quick: bool = False,
    chains: int = 4,
    iterations: int | None = None,
    only: list[str] | None = None,
    compiles: tuple[str, ...] = ("jit",),
) -> list[dict]:
    """Run both samplers on every posterior; print the table; return rows for ``run_all``."""
    from bayesdl.models.posteriordb import POSTERIORDB_NAMES, load_posteriordb

    torch.set_num_threads(1)
    n = iterations or (300 if quick else 1000)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"cpu capability {torch.backends.cpu.get_cpu_capability()}; {chains} chains, {n} warmup + {n} draws"
    )
    header = (
        f"{'posterior':42s} {'sampler':12s} {'agree':>5s} {'rhat':>6s} {'div':>4s} {'minESS':>7s} {'steps':>6s} "
        f"{'total s':>8s} {'loop s':>8s} {'ESS/s':>8s} {'loopESS/s':>9s}"
    )
    print(header)
    results = {}
    for name in only or POSTERIORDB_NAMES:
        case = load_posteriordb(name)
        dense = name in DENSE
        runs = [
            (
                f"bayesdl-{'jit' if c is True else c}" if len(compiles) > 1 else "bayesdl",
                lambda *a, c=c: run_bayesdl(*a, compile=c),
            )
            for c in compiles
        ] + [("numpyro", run_numpyro)]
        for sampler, fn in runs:
            r = fn(case, chains, n, n, dense)
            c = r["check"]
            r["ess"] = c.min_ess_bulk
            r["agree"] = bool(c.passed) and c.max_r_hat < RHAT_AGREE
            results[name, sampler] = r
            print(
                f"{name + (' (dense)' if dense else ''):42s} {sampler:12s} {str(r['agree']):>5s} {c.max_r_hat:6.3f} "
                f"{c.divergences:4d} {r['ess']:7.0f} {r['mean_steps']:6.1f} {r['seconds']:8.1f} {r['loop']:8.1f} "
                f"{r['ess'] / r['seconds']:8.1f} {r['ess'] / r['loop']:9.1f}",
                flush=True,
            )
    names = sorted({k[0] for k in results})
    ours_names = [k[1] for k in results if k[1] != "numpyro"]
    print()
    for ours in dict.fromkeys(ours_names):
        end_to_end = {
            k: (results[k, ours]["ess"] / results[k, ours]["seconds"])
            / (results[k, "numpyro"]["ess"] / results[k, "numpyro"]["seconds"])
            for k in names
        }
        loop = {
            k: (results[k, ours]["ess"] / results[k, ours]["loop"])
            / (results[k, "numpyro"]["ess"] / results[k, "numpyro"]["loop"])
            for k in names
        }
        for k in names:
            print(f"{k:42s} ESS/s ratio {ours}/NumPyro: end to end {end_to_end[k]:.2f}x, loop {loop[k]:.2f}x")
        lo, med = min(end_to_end.values()), statistics.median(end_to_end.values())
        lo_loop = min(loop.values())
        print(
            f"{ours}: end to end: min {lo:.2f}x (target >= 1.0x: {'MET' if lo >= 1 else 'NOT MET'}), median {med:.2f}x "
            f"(target >= 1.5x: {'MET' if med >= 1.5 else 'NOT MET'}); loop: min {lo_loop:.2f}x "
            f"(target >= 0.5x: {'MET' if lo_loop >= 0.5 else 'NOT MET'})"
        )
    agree = all(results[k, s]["agree"] for k in names for s in (*ours_names, "numpyro"))
    print(f"all posteriors agree with the reference and have R-hat < {RHAT_AGREE} (both samplers): {agree}")
    return [
        {
            "task": f"posteriordb ({len(names)} posteriors, {chains} chains, {n}+{n}): min bulk ESS/s, end to end",
            "peer": "NumPyro NUTS chain_method='vectorized'",
            "peer_figure": "per posterior, see bench_posteriordb",
            "bayesdl_figure": f"median ratio {med:.2f}x, min {lo:.2f}x",
            "ratio": f"{med:.2f}x (median)",
        },
        {
            "task": f"posteriordb ({len(names)} posteriors): min bulk ESS/s, warmup+sampling loop only",
            "peer": "NumPyro vectorized, second run of the compiled kernel",
            "peer_figure": "per posterior",
            "bayesdl_figure": f"median ratio {statistics.median(loop.values()):.2f}x, min {lo_loop:.2f}x",
            "ratio": f"{lo_loop:.2f}x (min)",
        },
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 + 300 iterations")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=None, help="warmup and draws each (default 1000)")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--compile",
        nargs="+",
        default=["jit"],
        choices=["jit", "inductor"],
        help="bayesdl's kernel backend(s), each run next to NumPyro (sample_posterior's compile=)",
    )
    a = parser.parse_args()
    main(
        quick=a.quick,
        chains=a.chains,
        iterations=a.iterations,
        only=a.only,
        compiles=tuple(c if c != "jit" else True for c in a.compile),
    )
