"""The models of bayesdl, one family per module or subpackage, with their main classes re-exported here.

* Uncertainty-aware networks: :class:`BayesByBackprop`, :class:`MCDropout`, :class:`DeepEnsemble`,
  :class:`PlainNet` (:mod:`~bayesdl.models.bnn`), and weight-space Pyro models (:class:`PyroBNN`).
* Deterministic backbones they wrap: :class:`MLP`, :class:`LeNet`, :class:`ResidualCNN`, :class:`RecurrentNet`.
* Pyro models for SVI and MCMC: :class:`BayesianLogisticRegression` and the eight schools model.
* Gaussian processes: :class:`ExactGPRegression`, :class:`SparseVariationalGP`, :class:`DeepKernelGP`.
* Latent-variable and energy-based models: :class:`VAE`, :class:`RBM`, :class:`DBN`.
* Exact-likelihood generative models: :class:`NADE`, :class:`MADE`, :class:`PixelCNN`, the flows
  :class:`MAF`, :class:`IAF`, :class:`RealNVP`, :class:`NSFCoupling`, :class:`NSFAutoregressive`,
  :class:`PlanarFlow`, :class:`MultiScaleFlow`, :class:`Dequantized`,
  the diffusion models :class:`DDPM` and :class:`ConditionalDDPM` (classifier-free guidance), and the
  continuous-time :class:`ScoreSDE` and :class:`FlowMatching` (likelihoods through
  :func:`bayesdl.inference.ode_log_likelihood`).

Helpers that belong to one family (likelihood heads, encoders, schedules, ...) stay in their subpackage,
e.g. ``bayesdl.models.vae.MLPEncoder`` or ``bayesdl.models.diffusion.make_betas``.
"""

from .autoregressive import MADE, NADE, PixelCNN
from .bnn import BayesByBackprop, DeepEnsemble, MCDropout, PlainNet
from .continuous import FlowMatching, ScoreSDE
from .dbn import DBN
from .diffusion import DDPM, ConditionalDDPM
from .eight_schools import eight_schools_centered, eight_schools_data, eight_schools_noncentered
from .flows import IAF, MAF, Dequantized, MultiScaleFlow, NSFAutoregressive, NSFCoupling, PlanarFlow, RealNVP
from .gp import DeepKernelGP, ExactGPRegression, SparseVariationalGP
from .logistic import BayesianLogisticRegression
from .nets import MLP, LeNet, RecurrentNet, ResidualCNN
from .pyro_bnn import PyroBNN, PyroPosterior, to_pyro_model
from .rbm import RBM
from .vae import VAE

__all__ = [
    "DBN",
    "DDPM",
    "IAF",
    "MADE",
    "MAF",
    "MLP",
    "NADE",
    "RBM",
    "VAE",
    "BayesByBackprop",
    "ConditionalDDPM",
    "BayesianLogisticRegression",
    "DeepEnsemble",
    "DeepKernelGP",
    "FlowMatching",
    "Dequantized",
    "ExactGPRegression",
    "LeNet",
    "MCDropout",
    "MultiScaleFlow",
    "NSFAutoregressive",
    "NSFCoupling",
    "PixelCNN",
    "PlainNet",
    "PlanarFlow",
    "PyroBNN",
    "PyroPosterior",
    "RealNVP",
    "RecurrentNet",
    "ResidualCNN",
    "ScoreSDE",
    "SparseVariationalGP",
    "eight_schools_centered",
    "eight_schools_data",
    "eight_schools_noncentered",
    "to_pyro_model",
]
