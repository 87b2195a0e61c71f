"""bayesdl: probabilistic and Bayesian deep learning on PyTorch and Pyro.

Every model is a PyTorch module with a probabilistic meaning, trained and queried through one shared
inference layer (:mod:`bayesdl.inference`); results come out as numbers, ArviZ data and plots.
"""

from .io import load, save

__version__ = "0.1.0"
__all__ = ["__version__", "load", "save"]
