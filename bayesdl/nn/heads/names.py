"""The one vocabulary of output-head names, shared by every family (laplace-torch's ``utils/enums.py`` style).

Each family accepts the subset that fits its data; a name means the same thing wherever it is accepted:

=====================  ===========================================================  ======================
name                   meaning                                                      accepted by
=====================  ===========================================================  ======================
``"bernoulli"``        binary data, one logit per dimension (logistic link)         VAE, MADE, NADE, PixelCNN
``"levels"``           integer levels 0..L-1 per dimension, a softmax over L        VAE, MADE, PixelCNN
``"logistic_mixture"`` integer levels, a discretised logistic mixture (PixelCNN++)  PixelCNN
``"gaussian"``         real data, a Gaussian per dimension                          VAE, MADE, GPs
``"categorical"``      class labels 0..C-1, a softmax over C classes                supervised nets, BNNs
``"heteroscedastic"``  real targets, mean and log-variance from the net             supervised nets, BNNs
``"homoscedastic"``    real targets, the mean from the net and one noise sd         supervised nets, BNNs
``"probit"``           binary targets, probit link (a GPyTorch likelihood)          GPs
``"softmax"``          class labels, one latent GP per class (a GPyTorch likelihood) GPs
=====================  ===========================================================  ======================

Old spellings still work, with a DeprecationWarning: ``"categorical"`` for integer levels in the density
models (:data:`RENAMED_DENSITY_HEADS`), and ``"bernoulli"`` for the GP's probit link (:data:`RENAMED_GP_LIKELIHOODS`).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, get_args

__all__ = [
    "DENSITY_HEADS",
    "GP_LIKELIHOODS",
    "RENAMED_DENSITY_HEADS",
    "RENAMED_GP_LIKELIHOODS",
    "SUPERVISED_HEADS",
    "DensityHeadName",
    "GPLikelihoodName",
    "HeadName",
    "SupervisedHeadName",
]


class HeadName(str, Enum):
    """Every output-head name; a member compares equal to its string (``HeadName.LEVELS == "levels"``).

    Attributes:
        BERNOULLI: binary data, one logit per dimension.
        LEVELS: integer levels 0..L-1, a softmax over L.
        LOGISTIC_MIXTURE: integer levels, a discretised logistic mixture.
        GAUSSIAN: real data, a Gaussian per dimension.
        CATEGORICAL: class labels 0..C-1, a softmax over C.
        HETEROSCEDASTIC: real targets, mean and log-variance from the net.
        HOMOSCEDASTIC: real targets, the mean from the net and one noise sd.
        PROBIT: binary targets through a probit link (GPs).
        SOFTMAX: class labels, one latent GP per class (GPs).

    Example:
        >>> HeadName("levels") is HeadName.LEVELS, HeadName.PROBIT == "probit"
        (True, True)
    """

    BERNOULLI = "bernoulli"
    LEVELS = "levels"
    LOGISTIC_MIXTURE = "logistic_mixture"
    GAUSSIAN = "gaussian"
    CATEGORICAL = "categorical"
    HETEROSCEDASTIC = "heteroscedastic"
    HOMOSCEDASTIC = "homoscedastic"
    PROBIT = "probit"
    SOFTMAX = "softmax"


#: heads of models of data x (VAE decoders, MADE, NADE, PixelCNN)
DensityHeadName = Literal["bernoulli", "levels", "gaussian", "logistic_mixture"]
#: heads of supervised models of targets y given x
SupervisedHeadName = Literal["categorical", "heteroscedastic", "homoscedastic"]
#: observation models of the GPs (GPyTorch likelihoods)
GPLikelihoodName = Literal["gaussian", "probit", "softmax"]

DENSITY_HEADS: tuple[str, ...] = get_args(DensityHeadName)
SUPERVISED_HEADS: tuple[str, ...] = get_args(SupervisedHeadName)
GP_LIKELIHOODS: tuple[str, ...] = get_args(GPLikelihoodName)

#: old option names of the density models, still accepted with a DeprecationWarning
RENAMED_DENSITY_HEADS: dict[str, str] = {"categorical": "levels"}
#: old option names of the GPs, still accepted with a DeprecationWarning
RENAMED_GP_LIKELIHOODS: dict[str, str] = {"bernoulli": "probit"}
