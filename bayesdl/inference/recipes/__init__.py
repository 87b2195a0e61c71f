"""Training recipes that drive models through the contract: KL warm-up, ensembles, greedy layer-wise stacks,
and the RBM training monitor.

They live on the inference side so that no model imports the trainer (see ``tests/test_layers.py``).
"""

from .ensemble import fit_ensemble
from .greedy import fit_greedy
from .kl_warmup import KLWarmup
from .rbm_monitor import RBMMonitor

__all__ = ["KLWarmup", "RBMMonitor", "fit_ensemble", "fit_greedy"]
