"""Training recipes that drive models through the contract: KL warm-up, ensembles, greedy layer-wise stacks,
the RBM training monitor, and online marginal-likelihood tuning of a prior precision.

They live on the inference side so that no model imports the trainer (see ``tests/test_layers.py``).
"""

from .ensemble import fit_ensemble
from .greedy import fit_greedy
from .kl_warmup import KLWarmup
from .online_marglik import OnlineMarglik
from .rbm_monitor import RBMMonitor

__all__ = ["KLWarmup", "OnlineMarglik", "RBMMonitor", "fit_ensemble", "fit_greedy"]
