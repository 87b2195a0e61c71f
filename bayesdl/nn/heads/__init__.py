"""Output heads: the raw network outputs a model emits per dimension, the distribution they define, the
log-likelihood, and the check of the data. One set, shared by the VAE decoders, MADE, NADE, PixelCNN and the
supervised models (the GPs share the vocabulary of names, :mod:`.names`).

* :class:`Head`: the interface (``num_params``, ``check``, ``encode``, ``log_prob``, ``distribution``, ``sample``).
* :class:`BernoulliHead`: binary data (``"bernoulli"``).
* :class:`CategoricalHead`: class labels (``"categorical"``); :class:`LevelsHead`: integer levels (``"levels"``).
* :class:`GaussianHead`, :class:`HeteroscedasticGaussianHead`, :class:`HomoscedasticGaussianHead`: real values.
* :class:`DiscretizedLogisticMixture`: integer levels by a logistic mixture (``"logistic_mixture"``).
* :func:`make_head`: the one factory.
"""

from .base import Head
from .bernoulli import BernoulliHead
from .categorical import CategoricalHead, LevelsHead, gumbel_argmax
from .factory import make_head
from .gaussian import GaussianHead, HeteroscedasticGaussianHead, HomoscedasticGaussianHead, ScaleOutput
from .logistic_mixture import DiscretizedLogisticMixture, log_sigmoid_difference
from .names import *  # noqa: F403  (the vocabulary: HeadName, the name subsets and the renames)
from .names import __all__ as _names

__all__ = [
    *_names,
    "BernoulliHead",
    "CategoricalHead",
    "DiscretizedLogisticMixture",
    "GaussianHead",
    "Head",
    "HeteroscedasticGaussianHead",
    "HomoscedasticGaussianHead",
    "LevelsHead",
    "ScaleOutput",
    "gumbel_argmax",
    "log_sigmoid_difference",
    "make_head",
]
