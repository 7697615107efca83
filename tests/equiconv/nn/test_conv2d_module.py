"""EquiConv2d as a drop-in nn.Conv2d, and convert()."""
import pytest
import torch
from torch import nn

import equiconv
from equiconv import EquiConv2d


def test_initialisation_matches_conv2d_for_the_same_seed():
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 8, 3, padding=1, groups=2)
    torch.manual_seed(0)
    equi = EquiConv2d(6, 8, 3, padding=1, groups=2)
    assert torch.equal(conv.weight, equi.weight) and torch.equal(conv.bias, equi.bias)


def test_state_dicts_move_both_ways():
    conv, equi = nn.Conv2d(3, 5, (3, 5), stride=2, bias=True), EquiConv2d(3, 5, (3, 5), stride=2)
    equi.load_state_dict(conv.state_dict())
    assert torch.equal(equi.weight, conv.weight)
    conv2 = nn.Conv2d(3, 5, (3, 5), stride=2)
    conv2.load_state_dict(EquiConv2d(3, 5, (3, 5), stride=2).state_dict())
    assert set(conv2.state_dict()) == {"weight", "bias"}
    no_bias = EquiConv2d(3, 5, 3, bias=False)
    assert no_bias.bias is None and set(no_bias.state_dict()) == {"weight"}


def test_forward_uses_the_operator_and_its_options():
    m = EquiConv2d(2, 3, 3, padding=1, lat_range=(40.0, -40.0), lon_span=180.0)
    x = torch.randn(2, 2, 8, 16)
    want = equiconv.functional.equi_conv2d(x, m.weight, m.bias, 1, 1, lat_range=(40.0, -40.0), lon_span=180.0)
    torch.testing.assert_close(m(x), want)
    ref = EquiConv2d(2, 3, 3, padding=1, lat_range=(40.0, -40.0), lon_span=180.0, backend="reference")
    ref.load_state_dict(m.state_dict())
    torch.testing.assert_close(ref(x), want, rtol=1e-5, atol=1e-5)


def test_padding_same_keeps_the_size():
    m = EquiConv2d(2, 2, 5, padding="same", dilation=2)
    assert m(torch.randn(1, 2, 12, 24)).shape == (1, 2, 12, 24)
    with pytest.raises(ValueError, match="padding='same'"):
        EquiConv2d(2, 2, 4, padding="same")


def test_extra_repr_reads_like_conv2d():
    assert repr(EquiConv2d(3, 8, 3, padding=1)) == "EquiConv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    r = repr(EquiConv2d(4, 8, 3, stride=2, dilation=2, groups=2, bias=False, lat_range=(45, -45), lon_span=90))
    assert "dilation=(2, 2)" in r and "groups=2" in r and "bias=False" in r
    assert "lat_range=(45.0, -45.0)" in r and "lon_span=90.0" in r


def test_device_and_dtype_factory_kwargs():
    m = EquiConv2d(2, 2, 3, dtype=torch.float64)
    assert m.weight.dtype == torch.float64 and m.bias.dtype == torch.float64
    assert EquiConv2d(2, 2, 3, device="meta").weight.is_meta


def small_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
        nn.Sequential(nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.ReLU()),
        nn.Conv2d(8, 4, 1),
    )


def test_convert_swaps_every_conv_with_a_kernel_and_keeps_the_weights():
    torch.manual_seed(0)
    net = small_net().eval()
    originals = [m.weight for m in net.modules() if isinstance(m, nn.Conv2d)]
    x = torch.randn(1, 3, 16, 32)
    before = net(x)
    out = equiconv.convert(net, lat_range=(80.0, -80.0))
    assert out is net
    assert isinstance(net[0], EquiConv2d) and isinstance(net[2][0], EquiConv2d)
    assert type(net[3]) is nn.Conv2d  # 1x1 stays
    assert net[2][0].groups == 2 and net[2][0].stride == (2, 2) and net[0].lat_range == (80.0, -80.0)
    assert net[0].weight is originals[0] and net[2][0].weight is originals[1]  # same Parameter objects
    assert not net[0].training
    after = net(x)
    assert after.shape == before.shape and not torch.allclose(after, before)


def test_convert_a_bare_conv_returns_the_replacement():
    conv = nn.Conv2d(2, 2, 3)
    assert isinstance(equiconv.convert(conv), EquiConv2d)
    one = nn.Conv2d(2, 2, 1)
    assert equiconv.convert(one) is one


class EveryKind(torch.nn.Module):
    """A small network holding every layer kind convert() knows, plus ones it must leave alone."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.point = torch.nn.Conv2d(8, 8, 1)
        self.pool = torch.nn.MaxPool2d(2)
        self.avg = torch.nn.AvgPool2d(2)
        self.up = torch.nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.resample = torch.nn.Upsample(scale_factor=2, mode="bilinear")
        self.context = torch.nn.AdaptiveAvgPool2d((2, 3))
        self.corners = torch.nn.Upsample(scale_factor=1, mode="bilinear", align_corners=True)

    def forward(self, x):
        y = self.resample(self.up(self.avg(self.pool(self.point(self.conv(x))))))
        return self.corners(y) + self.context(y).mean()


def test_convert_reaches_every_kind_and_shares_parameters():
    from equiconv import EquiAdaptiveAvgPool2d, EquiAvgPool2d, EquiConvTranspose2d, EquiMaxPool2d, EquiUpsample
    net = EveryKind()
    weights = {name: p for name, p in net.named_parameters()}
    x = torch.randn(1, 3, 16, 32)
    with pytest.warns(UserWarning, match="'corners' \\(Upsample\\) has mode='bilinear', align_corners=True"):
        converted = equiconv.convert(net)
    kinds = {name: type(m) for name, m in converted.named_children()}
    assert kinds == {"conv": EquiConv2d, "point": torch.nn.Conv2d, "pool": EquiMaxPool2d, "avg": EquiAvgPool2d,
                     "up": EquiConvTranspose2d, "resample": EquiUpsample, "context": EquiAdaptiveAvgPool2d,
                     "corners": torch.nn.Upsample}
    assert all(p is weights[name] for name, p in converted.named_parameters())
    assert converted(x).shape == EveryKind()(x).shape


def test_convert_switches_choose_the_kinds():
    net = equiconv.convert(EveryKind(), kinds=("conv", "max_pool"))
    assert isinstance(net.conv, EquiConv2d) and isinstance(net.pool, equiconv.EquiMaxPool2d)
    assert type(net.up) is torch.nn.ConvTranspose2d and type(net.resample) is torch.nn.Upsample
    assert isinstance(equiconv.convert(torch.nn.MaxPool2d(2), kinds="max_pool"), equiconv.EquiMaxPool2d)
    with pytest.raises(ValueError, match="kinds must be drawn from"):
        equiconv.convert(EveryKind(), kinds=("conv", "dropout"))
    with pytest.warns(UserWarning, match="ceil_mode"):
        assert type(equiconv.convert(torch.nn.MaxPool2d(2, ceil_mode=True))) is torch.nn.MaxPool2d
