"""``sample_posterior``: batched-chain NUTS/HMC with Stan-style warmup for a Pyro model or a potential function."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from tqdm.auto import tqdm

from ...errors import InputError
from ...validation import check_choice, check_positive_int
from ..training.seeding import isolated_rng
from .adaptation import (
    DualAveraging,
    WelfordCovariance,
    WelfordVariance,
    find_reasonable_step_size,
    warmup_windows,
)
from .compiled_kernels import compile_nuts_kernels
from .hmc import DEFAULT_STEP_SIZE_JITTER, hmc_transition
from .nuts import ChainState, nuts_transition
from .posterior import Posterior
from .potential import BatchedPotential, FunctionPotential
from .replay import replay_sites

KERNELS = ("nuts", "hmc")


def sample_posterior(
    model: Callable,
    *args: Any,
    kernel: str = "nuts",
    num_chains: int = 4,
    num_warmup: int = 500,
    num_samples: int = 500,
    seed: int = 0,
    init_strategy: Callable | None = None,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    progress: bool = True,
    num_steps: int = 10,
    potential_dim: int | None = None,
    adapt_mass_matrix: bool = True,
    compile: bool | str = True,
    step_size_jitter: float = DEFAULT_STEP_SIZE_JITTER,
    dense_mass: bool = False,
    **kwargs: Any,
) -> Posterior:
    """Sample the posterior of a Pyro model (or a potential energy) with C chains run as one batched computation.

    Every chain has its own step size (dual averaging during warmup) and its own mass matrix, diagonal
    or dense (set from the variance or covariance of its draws at the end of each doubling slow
    window, as in Stan).

    Arguments:
        model: a Pyro model with continuous latent sites and observed sites (``obs=``), called as
            ``model(*args, **kwargs)``; or, with ``potential_dim``, a potential energy U(z) mapping
            z [chains, potential_dim] to [chains] (vectorised over chains). Discrete latent sites with a
            finite support (Bernoulli, Categorical, ...) are summed out of the density by parallel
            enumeration, as in Pyro's NUTS, and are not among the draws (``Posterior.log_likelihood``
            is then left empty); any other discrete latent site is refused with an InputError.
        kernel: ``"nuts"`` (No-U-Turn) or ``"hmc"`` (static ``num_steps`` leapfrog steps).
        num_chains: C >= 1.
        num_warmup, num_samples: warmup (adaptation) iterations and kept draws per chain.
        seed: seeds the initial points and every random choice; the same seed gives the same draws. The
            global Python, NumPy, torch (and CUDA) generators are left as they were before the call.
        init_strategy: a Pyro init strategy (default: uniform in [-2, 2] in unconstrained space).
        target_accept: the mean acceptance statistic that dual averaging aims for.
        max_tree_depth: NUTS stops doubling after this many doublings.
        progress: show a progress bar.
        num_steps: leapfrog steps per HMC transition.
        step_size_jitter: HMC only: each transition's step size is drawn uniformly from
            [(1 - j) e, (1 + j) e] around the adapted e, per chain (see :func:`hmc_transition`); 0 gives
            static HMC, which can stall when L e is near a period of the target (Neal 2011, section 5.4).
        potential_dim: the dimension D when ``model`` is a potential-energy function.
        adapt_mass_matrix: adapt the mass matrix (otherwise it stays the identity).
        dense_mass: adapt a dense mass matrix (M^{-1} the regularised covariance of each chain's warmup
            draws) instead of a diagonal one, as NumPyro's ``dense_mass=True``; worth it when the
            posterior has strongly correlated coordinates. Each leapfrog step then costs a D x D
            matrix-vector product per chain.
        compile: how NUTS's leapfrog kernels run. ``True`` (or ``"jit"``) traces the batched potential and
            gradient, and each tree leaf with its no-U-turn checks, into TorchScript (about a second; the
            first use in a process pays a one-off import of torch's tracing machinery). ``"inductor"``
            compiles each leaf (potential inlined) into one fused TorchInductor kernel for the run's fixed
            shapes: tens of times cheaper per leapfrog step on small models, after a one-off compile of
            tens of seconds per model (cached in the process and on disk), so it pays off for long runs.
            ``False`` runs eagerly. Traced and compiled kernels are checked against the eager ones; on a
            failure the sampler falls back to the next simpler mode.
        **kwargs: keyword arguments for the model.

    Returns:
        A :class:`Posterior` with draws [chain, draw, ...] in constrained space and per-draw statistics.

    Example:
        >>> post = sample_posterior(lambda z: 0.5 * (z ** 2).sum(-1), potential_dim=2, num_chains=2,
        ...                         num_warmup=30, num_samples=20, progress=False)
        >>> tuple(post.samples["z"].shape), sorted(post.sample_stats)[:2]
        ((2, 20, 2), ['acceptance_rate', 'diverging'])

    References:
        Hoffman & Gelman (2014), The No-U-Turn Sampler, arXiv:1111.4246; Betancourt (2017),
        A Conceptual Introduction to Hamiltonian Monte Carlo, arXiv:1701.02434; Stan Reference
        Manual, "HMC algorithm parameters" (windowed adaptation).
    """
    check_choice(kernel, "kernel", KERNELS)
    check_positive_int(num_chains, "num_chains")
    check_positive_int(num_samples, "num_samples")
    check_positive_int(num_warmup, "num_warmup", minimum=0)
    check_positive_int(max_tree_depth, "max_tree_depth")
    check_positive_int(num_steps, "num_steps")
    if not 0.0 < float(target_accept) < 1.0:
        raise InputError(f"target_accept must lie in (0, 1), got {target_accept}")
    if not isinstance(step_size_jitter, (int, float)) or not 0.0 <= float(step_size_jitter) < 1.0:
        raise InputError(f"step_size_jitter must be a number in [0, 1), got {step_size_jitter!r}")
    if compile not in (True, False, "jit", "inductor"):
        raise InputError(f"compile must be True, False, 'jit' or 'inductor', got {compile!r}")
    if not callable(model):
        raise InputError(f"model must be a Pyro model or a potential function, got {type(model).__name__}")

    # the initial points and the model's trace draw from the global generators: seed them inside the call and
    # put the caller's states back afterwards (pyro.set_rng_seed here used to reseed the user's program)
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with isolated_rng(seed, cuda):
        if potential_dim is not None:
            check_positive_int(potential_dim, "potential_dim")
            if args or kwargs:
                raise InputError(
                    "a potential function takes only z; pass no model arguments with potential_dim"
                )
            potential: BatchedPotential | FunctionPotential = FunctionPotential(
                model, potential_dim, num_chains, torch.Generator().manual_seed(seed)
            )
        else:
            potential = BatchedPotential(
                model, args, kwargs, num_chains, init_strategy, compile=bool(compile)
            )
        device, dtype = potential.device, potential.dtype
        generator = torch.Generator(device=device).manual_seed(seed)
        energy_and_grad = potential.energy_and_grad
        dim = potential.dim

        kernels = None

        def transition(
            state: ChainState, step: torch.Tensor, inv_mass: torch.Tensor
        ) -> tuple[ChainState, dict]:
            if kernel == "nuts":
                return nuts_transition(
                    state, step, inv_mass, energy_and_grad, generator, max_tree_depth, kernels=kernels
                )
            return hmc_transition(
                state,
                step,
                inv_mass,
                energy_and_grad,
                generator,
                num_steps,
                step_size_jitter=step_size_jitter,
            )

        z = potential.init.to(dtype)
        u, g = energy_and_grad(z)
        if not bool(torch.isfinite(u).all()):
            raise InputError(
                "the potential energy is not finite at the initial points; check the model and data"
            )
        state = ChainState(z, u, g)
        if dense_mass:
            inv_mass = torch.eye(dim, dtype=dtype, device=device).expand(num_chains, dim, dim).clone()
        else:
            inv_mass = torch.ones(num_chains, dim, dtype=dtype, device=device)
        estimator = WelfordCovariance if dense_mass else WelfordVariance
        if kernel == "nuts" and getattr(potential, "compiled", False):
            backends = ("inductor", "jit") if compile == "inductor" else ("jit",)
            for backend in backends:
                kernels = compile_nuts_kernels(
                    potential.compiled_energy_and_grad,
                    state,
                    inv_mass,
                    max_tree_depth,
                    backend=backend,
                    eager_energy_and_grad=potential.energy_and_grad,
                )
                if kernels is not None:
                    break
        step = find_reasonable_step_size(z, u, g, inv_mass, energy_and_grad, generator)
        averager = DualAveraging(step.log(), float(target_accept))
        windows = warmup_windows(num_warmup) if adapt_mass_matrix else []
        window_start = {start: end for start, end in windows}
        welford: WelfordVariance | WelfordCovariance | None = None
        window_end = -1

        draws = torch.empty(num_chains, num_samples, dim, dtype=dtype, device=device)
        stat_rows: list[dict[str, torch.Tensor]] = []
        bar = tqdm(
            total=num_warmup + num_samples, disable=not progress, desc=f"{kernel} x{num_chains} chains"
        )
        divergent = torch.zeros(2, dtype=torch.int64, device=device)  # warm-up, sampling
        start_time = time.perf_counter()
        warmup_seconds = 0.0
        for it in range(num_warmup + num_samples):
            state, stats = transition(state, step, inv_mass)
            if it < num_warmup:
                step = averager.update(stats["acceptance_rate"])
                if it in window_start:
                    welford, window_end = estimator(num_chains, dim, dtype, device), window_start[it]
                if welford is not None:
                    welford.update(state.z)
                    if it + 1 == window_end:
                        inv_mass = welford.regularized_inverse_mass()
                        welford = None
                        step = find_reasonable_step_size(
                            state.z,
                            state.energy,
                            state.grad,
                            inv_mass,
                            energy_and_grad,
                            generator,
                            initial=step,
                        )
                        averager = DualAveraging(step.log(), float(target_accept))
                if it + 1 == num_warmup:
                    step = averager.final_step_size()
                    warmup_seconds = time.perf_counter() - start_time
            else:
                draws[:, it - num_warmup] = state.z
                stats = dict(stats, step_size=step.clone(), lp=-state.energy)
                stat_rows.append(stats)
            if progress:  # phase, step size and divergences so far, as Pyro's and NumPyro's bars show them
                sampling = it >= num_warmup
                divergent[int(sampling)] += stats["diverging"].sum()
                if it % 10 == 9 or it + 1 in (num_warmup, num_warmup + num_samples):
                    bar.set_postfix_str(
                        f"{'sampling' if sampling else 'warmup'}, step size {float(step.mean()):.3g}, "
                        f"divergences {int(divergent[int(sampling)])}",
                        refresh=False,
                    )
            bar.update(1)
        bar.close()
        total_seconds = time.perf_counter() - start_time

        sample_stats = {k: torch.stack([row[k] for row in stat_rows], dim=1) for k in stat_rows[0]}
        samples = potential.unpack(draws)
        latent_names = [s.name for s in potential.sites]
        log_likelihood: dict[str, torch.Tensor] = {}
        if isinstance(potential, BatchedPotential):
            flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in samples.items()}
            # with enumerated discrete sites, log p(y_i | theta) would need them summed out per observation:
            # not computed (a replay would draw them from their prior)
            observed = [] if potential.enumerated else list(potential.observed)
            det, ll = replay_sites(model, args, kwargs, flat, potential.deterministic_names, observed)
            shape = (num_chains, num_samples)
            samples.update({k: v.reshape(*shape, *v.shape[1:]) for k, v in det.items()})
            log_likelihood = {k: v.reshape(*shape, *v.shape[1:]) for k, v in ll.items()}
        return Posterior(
            samples={k: v.detach() for k, v in samples.items()},
            sample_stats=sample_stats,
            unconstrained=draws,
            observed_data=dict(potential.observed),
            log_likelihood=log_likelihood,
            step_size=step,
            inv_mass=inv_mass,
            warmup_seconds=warmup_seconds,
            sampling_seconds=total_seconds - warmup_seconds,
            model=model if potential_dim is None else None,
            model_args=args,
            model_kwargs=kwargs,
            latent_names=latent_names,
        )
