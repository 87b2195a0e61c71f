"""The denoising networks: sinusoidal time embedding, residual MLP and the small U-Net."""

import math

import pytest
import torch

from bayesdl.errors import InputError
from bayesdl.nn import DenoisingMLP, SinusoidalTimeEmbedding, UNet


def test_time_embedding_is_sin_and_cos_of_geometric_frequencies():
    emb = SinusoidalTimeEmbedding(6, max_period=100.0)
    out = emb(torch.tensor([0.0, 2.0]))
    freqs = [100.0 ** (-i / 3) for i in range(3)]
    expected = [math.sin(2.0 * f) for f in freqs] + [math.cos(2.0 * f) for f in freqs]
    assert torch.allclose(out[0], torch.tensor([0.0, 0, 0, 1, 1, 1]))
    assert torch.allclose(out[1], torch.tensor(expected), atol=1e-6)
    with pytest.raises(InputError):
        SinusoidalTimeEmbedding(5)


def test_mlp_depends_on_time_and_checks_shapes():
    net = DenoisingMLP(3, hidden=16, out_features=6)
    x = torch.randn(4, 3)
    a, b = net(x, torch.zeros(4)), net(x, torch.full((4,), 500.0))
    assert a.shape == (4, 6) and not torch.allclose(a, b)
    with pytest.raises(InputError):
        net(torch.randn(4, 2), torch.zeros(4))
    with pytest.raises(InputError):
        net(x, torch.zeros(3))


@pytest.mark.parametrize(
    "size,mults,attention", [(28, [1, 2, 2], [2]), (8, [1, 2], [1]), (7, [1, 2], [0, 1])]
)
def test_unet_shapes_zero_initial_output_and_time_dependence(size, mults, attention):
    torch.manual_seed(0)
    net = UNet(1, base_channels=8, channel_mults=mults, attention_levels=attention, out_channels=2)
    x = torch.randn(2, 1, size, size)
    with torch.no_grad():
        out = net(x, torch.tensor([1.0, 900.0]))
    assert out.shape == (2, 2, size, size)
    assert float(out.abs().max()) == 0.0  # the output convolution starts at zero
    torch.nn.init.normal_(net.conv_out.weight, std=0.1)
    with torch.no_grad():
        a, b = net(x, torch.tensor([1.0, 1.0])), net(x, torch.tensor([900.0, 900.0]))
    assert not torch.allclose(a, b)
    assert any(isinstance(m, torch.nn.GroupNorm) for m in net.modules())


def test_unet_bad_input():
    net = UNet(1, base_channels=8, channel_mults=[1, 2], attention_levels=[1])
    with pytest.raises(InputError):
        net(torch.randn(2, 3, 8, 8), torch.zeros(2))
    with pytest.raises(InputError):
        net(torch.randn(2, 1, 8), torch.zeros(2))
    with pytest.raises(InputError):
        UNet(1, channel_mults=[1, 2], attention_levels=[5])
