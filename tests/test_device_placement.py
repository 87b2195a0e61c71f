"""Every model family builds on the ``meta`` device: no constructor creates a tensor on a hard-coded device.

Under ``with torch.device("meta")`` every factory call that does not name a device makes meta tensors, so
a parameter or buffer that ends up elsewhere was created with an explicit device (or copied from a CPU
tensor), which would break ``device="cuda"`` runs. The same models then move to a device with ``.to()``
with all their buffers (masks, schedules, priors, persistent chains).
"""

import pytest
import torch

from bayesdl.models.autoregressive import MADE, NADE, PixelCNN
from bayesdl.models.bnn import BayesByBackprop, DeepEnsemble, MCDropout
from bayesdl.models.dbn import DBN
from bayesdl.models.diffusion import DDPM
from bayesdl.models.flows import IAF, MAF, MultiScaleFlow, PlanarFlow, RealNVP
from bayesdl.models.logistic import BayesianLogisticRegression
from bayesdl.models.nets import MLP, LeNet, RecurrentNet, ResidualCNN
from bayesdl.models.pyro_bnn import PyroBNN
from bayesdl.models.rbm import RBM
from bayesdl.models.vae import (
    VAE,
    FlowPosteriorEncoder,
    FlowPrior,
    MLPDecoder,
    MLPEncoder,
    PixelCNNDecoder,
    VampPrior,
)
from bayesdl.nn import DenoisingMLP, UNet

FAMILIES = {
    "logistic": lambda: BayesianLogisticRegression(4, 3),
    "mlp": lambda: MLP(4, [8], 2, dropout=0.1, norm="layer"),
    "lenet": lambda: LeNet(1, 28, 10),
    "residual-cnn": lambda: ResidualCNN(1, 8, 10),
    "recurrent": lambda: RecurrentNet(3, 8, 2, cell="gru"),
    "bayes-by-backprop": lambda: BayesByBackprop(MLP(4, [8], 3)),
    "mc-dropout": lambda: MCDropout(MLP(4, [8], 3, dropout=0.2)),
    "deep-ensemble": lambda: DeepEnsemble(MLP(4, [8], 3), num_members=2),
    "pyro-bnn": lambda: PyroBNN(MLP(4, [8], 3)),
    "vae": lambda: VAE(MLPEncoder([6], 2, [8]), MLPDecoder(2, [6], [8])),
    "vae-vampprior": lambda: VAE(
        MLPEncoder([6], 2, [8]), MLPDecoder(2, [6], [8]), prior=VampPrior(2, [6], 4)
    ),
    "vae-flow-posterior": lambda: VAE(
        FlowPosteriorEncoder([6], 2, [8]), MLPDecoder(2, [6], [8]), prior=FlowPrior(2)
    ),
    "pixelvae": lambda: VAE(
        MLPEncoder([1, 4, 4], 2, [8]), PixelCNNDecoder(2, [1, 4, 4], num_layers=2, hidden_channels=4)
    ),
    "realnvp": lambda: RealNVP(4, num_layers=2, hidden_sizes=[8]),
    "maf": lambda: MAF(4, num_layers=2, hidden_sizes=[8]),
    "iaf": lambda: IAF(4, num_layers=2, hidden_sizes=[8]),
    "planar": lambda: PlanarFlow(2, num_layers=2),
    "multiscale": lambda: MultiScaleFlow([1, 8, 8], num_scales=2, steps_per_scale=1, hidden_channels=8),
    "nade": lambda: NADE(6, 4),
    "made": lambda: MADE(6, [8], num_masks=2),
    "pixelcnn": lambda: PixelCNN(1, 4, num_layers=2, hidden_channels=4),
    "rbm": lambda: RBM(6, 4, method="pcd", num_chains=3),
    "dbn": lambda: DBN([6, 4, 3]),
    "ddpm-mlp": lambda: DDPM(DenoisingMLP(2), data_shape=[2], num_steps=10),
    "ddpm-unet": lambda: DDPM(
        UNet(1, base_channels=8, channel_mults=(1, 2), attention_levels=(1,), groups=4),
        data_shape=[1, 8, 8],
        num_steps=10,
        decoder="discretized",
    ),
}


def _tensors(module):
    return list(module.named_parameters()) + list(module.named_buffers())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_model_builds_on_the_meta_device(family):
    with torch.device("meta"):
        model = FAMILIES[family]()
    tensors = _tensors(model)
    assert tensors, f"{family} has no parameters or buffers"
    elsewhere = [name for name, t in tensors if t.device.type != "meta"]
    assert not elsewhere, f"{family} created tensors off the default device: {elsewhere[:5]}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_tensor_follows_to(family):
    model = FAMILIES[family]().to(torch.float64)
    floating = [(n, t) for n, t in _tensors(model) if t.is_floating_point()]
    assert floating and all(t.dtype == torch.float64 for _, t in floating)
