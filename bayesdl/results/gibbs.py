"""The result of block Gibbs sampling: the final blocks, a trace of block 0 and per-sweep statistics.

Filled by :func:`bayesdl.inference.block_gibbs` and returned by the energy-based models' samplers; it sits
below both, so it imports only torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class GibbsResult:
    """What :func:`block_gibbs` returns.

    Attributes:
        blocks: the final value of every block after the last sweep, ``blocks[0]`` being block 0
            (for an RBM: ``[v, h]``, where ``h`` is the hidden state that produced ``v``).
        trace: block 0 recorded every ``record_every`` sweeps, shape [num_records, chains, ...],
            or None when nothing was recorded.
        statistics: the per-chain ``statistic`` after every sweep, shape [num_steps, chains], or
            None (for example the energy, to check mixing or export to ArviZ).

    Example:
        >>> out = GibbsResult(blocks=[torch.zeros(2, 3), torch.ones(2, 4)], trace=torch.zeros(5, 2, 3))
        >>> len(out.blocks), tuple(out.trace.shape), out.statistics is None
        (2, (5, 2, 3), True)
    """

    blocks: list[torch.Tensor]
    trace: torch.Tensor | None = None
    statistics: torch.Tensor | None = None
