"""Renamed options and keywords keep working, with a DeprecationWarning, and old checkpoints still load.

The one vocabulary: ``features`` for the width of the modelled variable, ``in_features``/``out_features`` for a
network's widths, ``hidden_sizes`` for hidden widths,
``num_layers`` for the number of stacked layers or transforms, ``"levels"`` for integer pixel levels (the
classifiers keep ``"categorical"`` for class labels) and ``"probit"`` for the GP's binary likelihood.
"""

from __future__ import annotations

import json

import pytest
import torch

import bayesdl
from bayesdl.io import container
from bayesdl.models import IAF, MADE, MAF, NADE, PixelCNN
from bayesdl.models.gp import DeepKernelGP
from bayesdl.models.nets import MLP, RecurrentNet
from bayesdl.models.vae import FlowPosteriorEncoder, FlowPrior, MLPDecoder, MLPEncoder
from bayesdl.nn import DenoisingMLP
from bayesdl.nn.heads import LevelsHead

OLD_AND_NEW = [
    (
        lambda: MADE(num_inputs=4, hidden_sizes=[8], likelihood="categorical", num_categories=5),
        lambda: MADE(features=4, hidden_sizes=[8], likelihood="levels", num_levels=5),
    ),
    (lambda: NADE(num_inputs=4, hidden_size=3), lambda: NADE(features=4, hidden_size=3)),
    (lambda: MAF(3, num_transforms=2, hidden_sizes=[8]), lambda: MAF(3, num_layers=2, hidden_sizes=[8])),
    (lambda: IAF(3, num_transforms=2, hidden_sizes=[8]), lambda: IAF(3, num_layers=2, hidden_sizes=[8])),
    (lambda: MLPEncoder([4], 2, hidden_dims=[8]), lambda: MLPEncoder([4], 2, hidden_sizes=[8])),
    (
        lambda: MLPDecoder(2, [4], hidden_dims=[8], likelihood="categorical"),
        lambda: MLPDecoder(2, [4], hidden_sizes=[8], likelihood="levels"),
    ),
    (
        lambda: FlowPrior(2, num_transforms=1, hidden_dims=[8]),
        lambda: FlowPrior(2, num_layers=1, hidden_sizes=[8]),
    ),
    (
        lambda: FlowPosteriorEncoder([4], 2, hidden_dims=[8], flow_hidden_dims=[8]),
        lambda: FlowPosteriorEncoder([4], 2, hidden_sizes=[8], flow_hidden_sizes=[8]),
    ),
    (
        lambda: PixelCNN(1, 3, num_layers=1, hidden_channels=4, likelihood="categorical"),
        lambda: PixelCNN(1, 3, num_layers=1, hidden_channels=4, likelihood="levels"),
    ),
    (
        lambda: DenoisingMLP(data_dim=3, hidden=8, num_blocks=1, out_dim=6),
        lambda: DenoisingMLP(in_features=3, hidden=8, num_blocks=1, out_features=6),
    ),
    (lambda: RecurrentNet(input_size=3, hidden_size=4), lambda: RecurrentNet(in_features=3, hidden_size=4)),
    (lambda: MLP(3, hidden=[4], out_features=2), lambda: MLP(3, hidden_sizes=[4], out_features=2)),
    (
        lambda: DeepKernelGP(num_inputs=2, num_inducing=4, hidden=[8]),
        lambda: DeepKernelGP(num_inputs=2, num_inducing=4, hidden_sizes=[8]),
    ),
]


@pytest.mark.parametrize("old, new", OLD_AND_NEW, ids=lambda f: "")
def test_old_names_warn_and_build_the_same_model(old, new):
    with pytest.warns(DeprecationWarning, match="deprecated; use"):
        torch.manual_seed(0)
        a = old()
    torch.manual_seed(0)
    b = new()
    assert a.config == b.config  # the stored configuration holds only the new names
    for (name_a, p), (name_b, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert name_a == name_b and torch.equal(p, q)


def test_levels_is_the_pixel_likelihood_and_categorical_its_old_name():
    assert MLPDecoder(2, [4], hidden_sizes=[8], likelihood="levels").likelihood.__class__ is LevelsHead
    with pytest.raises(bayesdl.errors.InputError, match="likelihood"):
        MADE(4, [8], likelihood="classes")


def test_a_checkpoint_with_old_keywords_in_its_config_still_loads(tmp_path):
    model = MADE(features=4, hidden_sizes=[8], likelihood="levels", num_levels=5)
    path = bayesdl.save(model, tmp_path / "new.safetensors")
    header = container.read_header(path, "bayesdl-model/1")
    document = json.loads(json.dumps(header.document))
    config = document["config"]
    config["num_inputs"] = config.pop("features")  # as bayesdl 0.1 wrote it
    config["num_categories"] = config.pop("num_levels")
    config["likelihood"] = "categorical"
    container.write(tmp_path / "old.safetensors", container.read_tensors(header, "cpu"), document)
    loaded = bayesdl.load(tmp_path / "old.safetensors")
    x = torch.randint(0, 5, (6, 4)).float()
    assert loaded.config == model.config and torch.equal(loaded.log_prob(x), model.log_prob(x))


def test_a_denoiser_checkpoint_with_the_old_width_names_still_loads(tmp_path):
    net = DenoisingMLP(3, hidden=8, num_blocks=1, out_features=6)
    path = bayesdl.save(net, tmp_path / "new.safetensors")
    header = container.read_header(path, "bayesdl-model/1")
    document = json.loads(json.dumps(header.document))
    config = document["config"]
    config["data_dim"], config["out_dim"] = config.pop("in_features"), config.pop("out_features")
    container.write(tmp_path / "old.safetensors", container.read_tensors(header, "cpu"), document)
    loaded = bayesdl.load(tmp_path / "old.safetensors")
    x, t = torch.randn(4, 3), torch.arange(4.0)
    assert loaded.config == net.config and torch.equal(loaded(x, t), net(x, t))
    assert loaded.data_dim == 3 and loaded.out_dim == 6  # the old attribute names still read
