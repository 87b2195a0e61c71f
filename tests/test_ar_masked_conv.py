import pytest
import torch
import torch.nn.functional as F

from bayesdl.errors import InputError
from bayesdl.nn.masked_conv import GatedPixelCNNLayer, MaskedConv2d, causal_conv_mask


def test_mask_types_a_and_b():
    va, vb = causal_conv_mask(5, "vertical", "A"), causal_conv_mask(5, "vertical", "B")
    assert va[:2].eq(1).all() and va[2:].eq(0).all()  # strictly the rows above
    assert vb[:3].eq(1).all() and vb[3:].eq(0).all()  # plus the centre row
    ha, hb = causal_conv_mask(5, "horizontal", "A"), causal_conv_mask(5, "horizontal", "B")
    assert ha.sum() == 2 and ha[2, :2].eq(1).all()  # the horizontal stack looks LEFT
    assert hb.sum() == 3 and hb[2, 2] == 1 and hb[2, 3:].eq(0).all()


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("stack", ["vertical", "horizontal"])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_bounding_box_forward_equals_full_masked_kernel(k, stack, mask_type):
    torch.manual_seed(0)
    conv = MaskedConv2d(3, 4, k, stack, mask_type)
    x = torch.randn(2, 3, 6, 7)
    reference = F.conv2d(x, conv.weight * conv.mask, conv.bias, padding=k // 2)
    assert torch.allclose(conv(x), reference, atol=1e-5)


def test_bad_kernels_are_refused():
    with pytest.raises(InputError, match="odd"):
        causal_conv_mask(4, "vertical", "A")
    with pytest.raises(InputError, match="no taps"):
        MaskedConv2d(1, 1, 1, "vertical", "A")
    with pytest.raises(InputError, match="stack"):
        causal_conv_mask(3, "diagonal", "A")
    with pytest.raises(InputError, match="keeps its width"):
        GatedPixelCNNLayer(1, 4, 3, "B")


def test_vertical_stack_never_sees_its_own_row():
    torch.manual_seed(0)
    layers = [GatedPixelCNNLayer(1, 4, 3, "A"), GatedPixelCNNLayer(4, 4, 3, "B")]
    x = torch.randn(1, 1, 5, 5, requires_grad=True)
    v, h = x, x
    for layer in layers:
        v, h = layer(v, h)
    (g,) = torch.autograd.grad(v[0, :, 2, 2].sum(), x)
    assert g[0, 0, 2:].eq(0).all()  # rows at and below row 2 do not reach the vertical stack at row 2
    assert g[0, 0, :2].ne(0).any()
