"""equiconv.convert: which layers it swaps (every kind, or the kinds asked for), the weights and
parameters it keeps, and the warnings for what it cannot carry over."""
import warnings

import pytest
import torch
from torch import nn

import equiconv
from equiconv import EquiConv2d


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


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_convert_never_drops_padding_mode_silently(mode):
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode))
    with pytest.warns(UserWarning, match=rf"'0'.*padding_mode='{mode}'"):
        equiconv.convert(net)
    assert isinstance(net[0], EquiConv2d)


def test_convert_keeps_zeros_padding_quiet():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        equiconv.convert(net)


def test_convert_warns_about_the_upsamplers_it_leaves_and_converts_the_rest():
    net = torch.nn.Sequential(torch.nn.UpsamplingBilinear2d(scale_factor=2),
                              torch.nn.UpsamplingNearest2d(scale_factor=2), torch.nn.MaxPool2d(2, return_indices=True))
    with pytest.warns(UserWarning, match=r"'0' \(UpsamplingBilinear2d\) has mode='bilinear', align_corners=True"):
        out = equiconv.convert(net)
    assert type(out[0]) is torch.nn.UpsamplingBilinear2d
    assert type(out[1]) is equiconv.EquiUpsample and out[1].mode == "nearest"
    assert type(out[2]) is equiconv.EquiMaxPool2d and out[2].return_indices
