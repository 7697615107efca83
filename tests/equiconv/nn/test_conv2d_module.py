"""EquiConv2d as a drop-in nn.Conv2d: initialisation, state dicts, repr, meta tensors, export,
tracing, channels_last, and arguments of the wrong type."""
import warnings

import numpy as np
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


def test_meta_tensors_infer_shapes_like_conv2d():
    x = torch.empty(2, 4, 16, 32, device="meta")
    m = EquiConv2d(4, 6, 3, stride=2, padding=1, device="meta")
    y = m(x)
    assert y.device.type == "meta"
    assert y.shape == nn.Conv2d(4, 6, 3, stride=2, padding=1, device="meta")(x).shape
    (y.sum()).backward()
    assert m.weight.grad.shape == m.weight.shape and m.weight.grad.device.type == "meta"


def test_export_with_dynamic_height_width_and_batch_runs_at_other_sizes():
    m = nn.Sequential(EquiConv2d(3, 4, 3, padding=1), nn.ReLU(), EquiConv2d(4, 2, 3, stride=2, padding=1)).eval()
    batch, h, w = torch.export.Dim("batch", min=1, max=8), torch.export.Dim("h", min=4, max=256), \
        torch.export.Dim("w", min=5, max=512)
    program = torch.export.export(m, (torch.randn(2, 3, 16, 32),),
                                  dynamic_shapes=({0: batch, 2: h, 3: w},))
    for shape in [(1, 3, 8, 16), (3, 3, 24, 40), (2, 3, 33, 65)]:
        x = torch.randn(*shape)
        torch.testing.assert_close(program.module()(x), m(x), rtol=1e-5, atol=1e-5)


def test_jit_trace_works():
    m = EquiConv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 8, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(m, x)
    torch.testing.assert_close(traced(x), m(x))


def test_jit_script_says_what_to_use_instead():
    with pytest.raises(RuntimeError, match="torch.compile.*torch.export"):
        torch.jit.script(nn.Sequential(EquiConv2d(3, 4, 3)))


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_channels_last_input_gives_channels_last_output(backend):
    x = torch.randn(2, 4, 8, 16).to(memory_format=torch.channels_last).requires_grad_()
    m = EquiConv2d(4, 6, 3, padding=1, backend=backend)
    y = m(x)
    want = nn.Conv2d(4, 6, 3, padding=1)(x)
    assert y.is_contiguous(memory_format=torch.channels_last) == want.is_contiguous(memory_format=torch.channels_last)
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, m(x.contiguous()))
    y.sum().backward()
    assert x.grad.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("call,error,name", [
    (lambda: EquiConv2d(2.5, 4, 3), TypeError, "in_channels"),
    (lambda: EquiConv2d(4, "4", 3), TypeError, "out_channels"),
    (lambda: EquiConv2d(4, 4, 3, groups=True), TypeError, "groups"),
    (lambda: EquiConv2d(4, 4, 3, groups=2.0), TypeError, "groups"),
])
def test_arguments_of_the_wrong_type_are_type_errors_naming_them(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_numpy_integers_are_integers():
    m = EquiConv2d(np.int64(4), np.int32(4), np.int64(3), padding=np.int64(1), groups=np.int64(2))
    assert m(torch.randn(1, 4, 8, 16)).shape == (1, 4, 8, 16)
    rows, _ = equiconv.sampling_grid(np.int64(8), np.int16(16), (np.int8(3), 3), padding=np.uint8(1))
    assert rows.shape == (8, 3, 3)
