"""Bad input fails with a clear error that names the argument."""
import pytest
import torch

from equiconv import EquiConv2d
from equiconv.functional import equi_conv2d

X = torch.randn(1, 4, 8, 16)
W = torch.randn(6, 4, 3, 3)


@pytest.mark.parametrize("call,error,match", [
    (lambda: equi_conv2d(torch.randn(4, 8), W), ValueError, "input must be 4-D"),
    (lambda: equi_conv2d(torch.randn(1, 1, 4, 8, 16), W), ValueError, "input must be 4-D"),
    (lambda: equi_conv2d(X, torch.randn(6, 4, 3)), ValueError, "weight must be 4-D"),
    (lambda: equi_conv2d(X, torch.randn(6, 3, 3, 3)), ValueError, "input has 4 channels"),
    (lambda: equi_conv2d(X, torch.randn(5, 2, 3, 3), groups=2), ValueError, "divisible by groups"),
    (lambda: equi_conv2d(X, W, groups=0), ValueError, "groups"),
    (lambda: equi_conv2d(X.long(), W.long()), TypeError, "floating-point"),
    (lambda: equi_conv2d(X, W.double()), TypeError, "weight dtype"),
    (lambda: equi_conv2d(X, W, torch.randn(5)), ValueError, "bias must have shape"),
    (lambda: equi_conv2d(X, W, torch.randn(6).double()), TypeError, "bias dtype"),
    (lambda: equi_conv2d(X, W.to("meta")), RuntimeError, "weight is on meta"),
    (lambda: equi_conv2d(X, torch.randn(6, 4, 9, 9)), ValueError, "smaller than the dilated kernel"),
    (lambda: equi_conv2d(X, W, dilation=5), ValueError, "smaller than the dilated kernel"),
    (lambda: equi_conv2d(X, W, stride=0), ValueError, "stride"),
    (lambda: equi_conv2d(X, W, padding=-1), ValueError, "padding"),
    (lambda: equi_conv2d(X, W, padding="full"), ValueError, "padding"),
    (lambda: equi_conv2d(X, W, padding="same", stride=2), ValueError, "padding='same'"),
    (lambda: equi_conv2d(X, W, dilation=(1, 0)), ValueError, "dilation"),
    (lambda: equi_conv2d(X, W, stride=1.5), TypeError, "stride"),
    (lambda: equi_conv2d(X, W, lat_range=(-10.0, 10.0)), ValueError, "lat_range"),
    (lambda: equi_conv2d(X, W, lat_range=(100.0, 0.0)), ValueError, "lat_range"),
    (lambda: equi_conv2d(X, W, lat_range=45.0), TypeError, "lat_range"),
    (lambda: equi_conv2d(X, W, lon_span=0.0), ValueError, "lon_span"),
    (lambda: equi_conv2d(X, W, lon_span=400.0), ValueError, "lon_span"),
    (lambda: equi_conv2d(torch.randn(1, 4, 3, 4), W, padding=1), ValueError, "width 4 is too small"),
    (lambda: equi_conv2d(torch.randn(1, 4, 2, 16), W, padding=1), ValueError, "height 2 is too small"),
    (lambda: equi_conv2d(X, W, backend="cuda"), ValueError, "backend"),
    (lambda: equi_conv2d(X.numpy(), W), TypeError, "input must be a torch.Tensor"),
    (lambda: EquiConv2d(3, 6, 3, groups=2), ValueError, "in_channels"),
    (lambda: EquiConv2d(4, 6, 3, groups=4), ValueError, "out_channels"),
    (lambda: EquiConv2d(4, 6, 0), ValueError, "kernel_size"),
])
def test_bad_input_raises_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_both_backends_check_the_same_way(backend):
    with pytest.raises(ValueError, match="input has 4 channels"):
        equi_conv2d(X, torch.randn(6, 3, 3, 3), backend=backend)


@pytest.mark.parametrize("args,match", [
    (dict(stride=[0, 1]), "stride must be positive"),
    (dict(padding=[-1, 0]), "padding must be non-negative"),
    (dict(lat_range=[10.0, 20.0]), "lat_range"),
    (dict(lon_span=0.0), "lon_span"),
])
def test_the_compiled_op_checks_its_own_arguments(args, match):
    """Direct callers of torch.ops.equiconv.* get errors, not out-of-bounds reads."""
    full = dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, lat_range=[90.0, -90.0], lon_span=360.0)
    full.update(args)
    with pytest.raises(ValueError, match=match):
        torch.ops.equiconv.equi_conv2d(X, W, None, full["stride"], full["padding"], full["dilation"],
                                       full["groups"], full["lat_range"], full["lon_span"])
