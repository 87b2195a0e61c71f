"""NUTS's leaf and boundary kernels: traced kernels match the eager ones, and models that read their data still compile."""

import torch

from bayesdl.inference.mcmc.compiled_kernels import compile_nuts_kernels
from bayesdl.inference.mcmc.nuts import ChainState, nuts_transition
from bayesdl.inference.mcmc.potential import BatchedPotential
from bayesdl.models.eight_schools import eight_schools_data, eight_schools_noncentered


def _gaussian(precision: torch.Tensor):
    def energy_and_grad(z: torch.Tensor):
        grad = z @ precision
        return 0.5 * (grad * z).sum(-1), grad

    return energy_and_grad


def test_traced_kernels_follow_the_eager_trajectories_at_every_depth():
    # chains on a badly scaled Gaussian: some turn after one doubling, some hit the depth limit
    precision = torch.diag(torch.tensor([1.0, 400.0], dtype=torch.float64))
    f = _gaussian(precision)
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    u, g = f(z)
    step = torch.tensor([0.01, 0.03, 0.05, 0.08, 0.2, 1.5], dtype=torch.float64)
    inv_mass = torch.ones_like(z)
    kernels = compile_nuts_kernels(f, ChainState(z, u, g), inv_mass, max_tree_depth=5)
    assert kernels is not None and kernels.backend == "jit"
    fast = slow = ChainState(z, u, g)
    g_fast, g_slow = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    depths = []
    for _ in range(8):
        fast, s_fast = nuts_transition(fast, step, inv_mass, f, g_fast, max_tree_depth=5, kernels=kernels)
        slow, s_slow = nuts_transition(slow, step, inv_mass, f, g_slow, max_tree_depth=5)
        torch.testing.assert_close(fast.z, slow.z, rtol=1e-10, atol=1e-12)
        for key in ("n_steps", "tree_depth", "diverging", "reached_max_treedepth"):
            assert torch.equal(s_fast[key], s_slow[key]), key
        depths.append(s_slow["tree_depth"])
        # a tree of depth d takes at most 2^d - 1 leapfrog steps
        assert bool((s_slow["n_steps"] <= 2 ** s_slow["tree_depth"] - 1).all())
    depths = torch.stack(depths)
    assert int(depths.min()) <= 2 and bool(
        depths.eq(5).any()
    )  # both early U-turns and the depth limit were exercised


def test_a_model_that_checks_its_data_values_still_compiles():
    # eight_schools_noncentered validates sigma (reads its values) on every call; under vmap only data-only
    # values can be read, so the trace burns them in and the potential is compiled, not left eager
    y, sigma = eight_schools_data()
    pot = BatchedPotential(eight_schools_noncentered, (y, sigma), {}, num_chains=3)
    assert pot.compiled
    z = pot.init + 0.3
    u_fast, g_fast = pot.energy_and_grad(z)
    eager = BatchedPotential(eight_schools_noncentered, (y, sigma), {}, num_chains=3, compile=False)
    u_slow, g_slow = eager.energy_and_grad(z)
    torch.testing.assert_close(u_fast, u_slow, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-12, atol=1e-12)
