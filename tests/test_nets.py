import pytest
import torch

import bayesdl
from bayesdl.errors import InputError
from bayesdl.models.nets import MLP, LeNet, RecurrentNet, ResidualCNN, check_input


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_mlp_options(norm, activation):
    net = MLP(5, [7, 6], 3, activation=activation, dropout=0.2, norm=norm)
    assert net(torch.randn(4, 5)).shape == (4, 3)
    kinds = {type(m).__name__ for m in net.modules()}
    assert "Dropout" in kinds and (
        {"batch": "BatchNorm1d", "layer": "LayerNorm"}.get(norm, "Linear") in kinds
    )


def test_cnns_and_recurrent_nets_have_the_documented_shapes():
    assert LeNet(1, 28, 10, norm="batch", dropout=0.1)(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert ResidualCNN(3, 8, 4, width=8, num_blocks=1, norm="layer")(torch.randn(2, 3, 8, 8)).shape == (2, 4)
    for cell in ("lstm", "gru"):
        net = RecurrentNet(3, 8, 2, cell=cell, num_layers=2, dropout=0.1, norm="layer")
        assert net(torch.randn(4, 6, 3)).shape == (4, 2)
        check_input(net, torch.randn(4, 9, 3))  # any sequence length


def test_residual_block_is_identity_when_its_last_conv_is_zero():
    net = ResidualCNN(1, 8, 2, width=4, num_blocks=1, norm=None)
    block = net.features[1]
    torch.nn.init.zeros_(block.body[-1].weight)
    torch.nn.init.zeros_(block.body[-1].bias)
    x = torch.randn(2, 4, 8, 8)
    assert torch.allclose(block(x), x)


def test_save_load_roundtrip(tmp_path):
    net = LeNet(1, 8, 10).eval()
    path = bayesdl.io.save(net, tmp_path / "lenet.safetensors")
    x = torch.randn(3, 1, 8, 8)
    assert torch.allclose(bayesdl.io.load(path)(x), net(x))


def test_bad_inputs():
    with pytest.raises(InputError, match="shape"):
        check_input(MLP(3, [4], 1), torch.randn(2, 4))
    with pytest.raises(InputError, match="NaN"):
        check_input(MLP(3, [4], 1), torch.full((2, 3), float("nan")))
    with pytest.raises(InputError, match="activation"):
        MLP(3, [4], 1, activation="sigmoidish")
    with pytest.raises(InputError, match="dropout"):
        MLP(3, [4], 1, dropout=1.0)
