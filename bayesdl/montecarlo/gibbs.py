"""Block Gibbs sampling for models whose blocks form a cycle of tractable conditionals.

A block Gibbs sweep over blocks x^(0), x^(1), ..., x^(m-1) draws each block from its conditional given
the block before it, x^(i+1) ~ p(x^(i+1) | x^(i)), and the last conditional leads back to block 0.
This covers the bipartite energy-based models of bayesdl: for a restricted Boltzmann machine the
blocks are the visible and hidden layers, and one sweep is h ~ p(h|v) followed by v ~ p(v|h)
(Geman & Geman 1984; for RBMs see Hinton 2002, Neural Computation 14(8)). Many chains run at once:
every block carries the chain index as its leading dimension.

The sampler knows nothing about the model: it receives the conditionals as callables
``(previous_block, generator) -> next_block``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..errors import InputError
from ..results.gibbs import GibbsResult
from ..validation import check_positive_int, check_tensor

__all__ = ["Conditional", "GibbsResult", "block_gibbs"]

Conditional = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


def block_gibbs(
    initial: torch.Tensor,
    conditionals: Sequence[Conditional],
    num_steps: int,
    *,
    generator: torch.Generator | None = None,
    record_every: int = 0,
    statistic: Callable[[list[torch.Tensor]], torch.Tensor] | None = None,
) -> GibbsResult:
    """Run ``num_steps`` sweeps of cyclic block Gibbs sampling from block 0 = ``initial``.

    One sweep applies ``conditionals[0]`` to block 0 to draw block 1, ``conditionals[1]`` to block 1
    to draw block 2, ..., and ``conditionals[-1]`` to the last block to draw a new block 0. Each
    conditional must leave the joint distribution invariant when the blocks form a chain of
    conditional independences (as the layers of an RBM do).

    Arguments:
        initial: block 0 of every chain, shape [chains, ...].
        conditionals: one sampler per block, ``(previous_block, generator) -> next_block``.
        num_steps: the number of full sweeps (0 returns the initial state).
        generator: the random source passed to every conditional (None: torch's global one).
        record_every: record block 0 after every ``record_every``-th sweep (0: no trace).
        statistic: a function of the list of blocks, returning one value per chain, recorded after
            every sweep.

    Returns:
        a :class:`GibbsResult`.

    Example:
        >>> gen = torch.Generator().manual_seed(0)
        >>> flip = lambda x, g: (torch.rand(x.shape, generator=g) < 0.5).float()
        >>> out = block_gibbs(torch.zeros(3, 2), [flip, flip], num_steps=4, generator=gen, record_every=2)
        >>> len(out.blocks), tuple(out.trace.shape)
        (2, (2, 3, 2))

    References:
        Geman & Geman (1984), Stochastic relaxation, Gibbs distributions, and the Bayesian
        restoration of images, IEEE TPAMI 6(6).
    """
    check_tensor(initial, "initial", nonempty=True, finite=False)  # the model validates values
    if len(conditionals) < 1:
        raise InputError("conditionals must hold at least one block sampler")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 0:
        raise InputError(f"num_steps must be an integer >= 0, got {num_steps!r}")
    if record_every:
        check_positive_int(record_every, "record_every")
    blocks: list[torch.Tensor] = [initial]
    trace: list[torch.Tensor] = []
    stats: list[torch.Tensor] = []
    with torch.no_grad():
        current = initial
        for step in range(1, num_steps + 1):
            blocks = [current]
            for cond in conditionals[:-1]:
                blocks.append(cond(blocks[-1], generator))
            current = conditionals[-1](blocks[-1], generator)
            blocks = [current] + blocks[1:]
            if statistic is not None:
                stats.append(statistic(blocks))
            if record_every and step % record_every == 0:
                trace.append(current)
    return GibbsResult(
        blocks=blocks,
        trace=torch.stack(trace) if trace else None,
        statistics=torch.stack(stats) if stats else None,
    )
