"""Block Gibbs sampling: re-exported from :mod:`bayesdl.montecarlo.gibbs`, where models can reach it."""

from ..montecarlo.gibbs import block_gibbs
from ..results.gibbs import GibbsResult

__all__ = ["GibbsResult", "block_gibbs"]
