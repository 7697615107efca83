"""Errors the conv2d checks make beyond the battery's bad inputs (tests/equiconv/ops/test_conv2d.py):
both backends check alike, and the compiled op checks its own arguments for direct callers."""
import pytest
import torch

from equiconv.functional import equi_conv2d

X = torch.randn(1, 4, 8, 16)
W = torch.randn(6, 4, 3, 3)


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
