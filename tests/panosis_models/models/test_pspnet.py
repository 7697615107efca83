"""PSPNet: shapes, the auxiliary head, and that conv="equi" leaves no standard sampling layer and
no seam."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import equiconv
from panosis_models.metrics import LEVELS
from panosis_models.models.convs import operators
from panosis_models.models.pspnet import PSPNet


def test_training_gives_logits_and_aux_at_the_input_size():
    torch.manual_seed(0)
    net = PSPNet(num_classes=5, preset="tiny")
    x = torch.randn(2, 3, 32, 64)
    logits, aux = net(x)
    assert logits.shape == aux.shape == (2, 5, 32, 64)
    loss = F.cross_entropy(logits, torch.zeros(2, 32, 64, dtype=torch.long)) + net.aux_weight * aux.sum() * 0
    loss.backward()
    assert net.eval()(x).shape == (2, 5, 32, 64)


@pytest.mark.parametrize("level", ["category", "fine"])
@pytest.mark.parametrize("size", [(24, 48), (32, 96), (40, 80)])
def test_logits_have_the_input_size_and_one_channel_per_label(level, size):
    outputs = LEVELS[level].num_outputs
    net = PSPNet(num_classes=outputs, preset="tiny", conv="equi").eval()
    with torch.no_grad():
        assert net(torch.randn(1, 3, *size)).shape == (1, outputs, *size)


def test_equi_holds_no_standard_sampling_layer():
    net = PSPNet(num_classes=4, preset="tiny", conv="equi")
    for name, m in net.named_modules():
        if type(m) is nn.Conv2d:
            assert tuple(m.kernel_size) == (1, 1), name
        assert not isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Upsample)), name
    kinds = {type(m) for m in net.modules()}
    assert {equiconv.EquiConv2d, equiconv.EquiMaxPool2d} <= kinds
    assert any(m.dilation == (4, 4) for m in net.modules() if isinstance(m, equiconv.EquiConv2d))


def test_equi_resizes_with_the_spherical_interpolation(monkeypatch):
    calls = []
    real = equiconv.functional.interpolate
    monkeypatch.setattr(equiconv.functional, "interpolate", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(F, "interpolate", lambda *a, **k: pytest.fail("a standard resize in an equi PSPNet"))
    PSPNet(num_classes=3, preset="tiny", conv="equi").eval()(torch.randn(1, 3, 24, 48))
    assert len(calls) == 5  # four pyramid branches and the head


@pytest.mark.parametrize("shift", [8, 16, 40])
def test_equi_output_is_exactly_roll_equivariant_on_a_full_panorama(shift):
    """Rolling the input by any multiple of the output stride rolls the output by the same amount."""
    torch.manual_seed(1)
    net = PSPNet(num_classes=3, preset="tiny", conv="equi").double().eval()
    x = torch.randn(1, 3, 24, 96, dtype=torch.float64)
    torch.testing.assert_close(net(x.roll(shift, -1)), net(x).roll(shift, -1), rtol=1e-9, atol=1e-9)


def test_std_is_not_roll_equivariant_so_the_test_above_can_fail():
    torch.manual_seed(1)
    net = PSPNet(num_classes=3, preset="tiny", conv="std").double().eval()
    x = torch.randn(1, 3, 24, 96, dtype=torch.float64)
    assert not torch.allclose(net(x.roll(16, -1)), net(x).roll(16, -1), atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="preset"):
        PSPNet(preset="huge")
    with pytest.raises(ValueError, match="conv"):
        operators("sphere")
    with pytest.raises(ValueError, match="multiples of 8"):
        PSPNet(preset="tiny")(torch.randn(1, 3, 20, 64))


def test_longitude_bins_slide_the_solid_angle_weighted_bin():
    from panosis_models.models.pspnet import LongitudeBins
    x = torch.randn(2, 3, 6, 12, dtype=torch.float64)
    one = LongitudeBins(1)(x)  # one bin: the whole sphere's area-weighted mean, at every column
    torch.testing.assert_close(one, equiconv.EquiAdaptiveAvgPool2d(1)(x).expand_as(one))
    three = LongitudeBins(3)(x)  # three latitude bins, four columns wide, centred (left-biased) on each column
    fixed = equiconv.EquiAdaptiveAvgPool2d(3)(x)  # bins starting at column 0: [0, 4), [4, 8), [8, 12)
    torch.testing.assert_close(three[..., 1::4][..., :3], fixed, rtol=1e-12, atol=1e-12)


@pytest.mark.slow  # console scripts in subprocesses, a training run
def test_the_trainer_and_evaluator_take_pspnet(tmp_path):
    """panosis-train --model pspnet trains with the auxiliary loss, checkpoints, and panosis-evaluate
    rebuilds the same network from the checkpoint's config."""
    from tests.helpers.console import run_cli
    run = tmp_path / "run"
    common = ["--cache-dir", tmp_path / "cache", "--no-progress"]
    result = run_cli("panosis-train", "--model", "pspnet", "--preset", "tiny", "--conv", "equi", "--num", "6",
                     "--size", "24x48", "--epochs", "1", "--batch-size", "2", "--out", run, *common)
    assert result.returncode == 0, result.stderr
    result = run_cli("panosis-evaluate", "--checkpoint", run / "best.pt", "--no-progress")
    assert result.returncode == 0, result.stderr
    bad = run_cli("panosis-train", "--model", "pspnet", "--size", "20x48", "--out", tmp_path / "bad", *common)
    assert bad.returncode == 2 and "output stride" in bad.stderr and bad.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("width", [5, 16, 17, 33])
@pytest.mark.parametrize("bins", [1, 2, 3, 6])
def test_longitude_bins_average_round_w_over_b_columns_around_the_circle(width, bins):
    # the oracle: the wrapped row padded by round(W/b) - 1 columns, then a (1, k) average pool
    from panosis_models.models.pspnet import LongitudeBins
    x = torch.randn(2, 3, 8, width, dtype=torch.float64)
    rows = equiconv.functional.equi_adaptive_avg_pool2d(x, (bins, width))
    k = max(1, round(width / bins))
    wrapped = torch.cat([rows[..., width - (k - 1) // 2:], rows, rows[..., :k - 1 - (k - 1) // 2]], -1)
    torch.testing.assert_close(LongitudeBins(bins)(x), F.avg_pool2d(wrapped, (1, k), stride=1))


def test_a_traced_equi_pspnet_follows_the_input_size():
    torch.manual_seed(0)
    net = PSPNet(num_classes=4, preset="tiny", conv="equi").eval()
    with torch.no_grad():
        traced = torch.jit.trace(net, torch.randn(1, 3, 32, 64), check_trace=False)
        for size in [(32, 64), (48, 128)]:
            x = torch.randn(1, 3, *size)
            torch.testing.assert_close(traced(x), net(x), atol=1e-5, rtol=1e-4)
