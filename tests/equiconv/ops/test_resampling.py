"""The three pure-PyTorch resampling ops together (pad, interpolate, equi_adaptive_avg_pool2d; each
has its own file): gradcheck on every kind of patch, empty batches, and no separate reference."""
import pytest
import torch

import equiconv
from equiconv.functional import equi_adaptive_avg_pool2d, interpolate, pad
from tests.equiconv.ops.resampling_cases import BAND, EQUATOR, kw
from tests.helpers.strategies import FULL


@pytest.mark.parametrize("sphere", [FULL, BAND, EQUATOR])
@pytest.mark.parametrize("op", [
    lambda x, s: pad(x, (2, 1, 3, 2), **kw(s)),
    lambda x, s: interpolate(x, (7, 9), mode="bilinear", **kw(s)),
    lambda x, s: interpolate(x, (3, 11), mode="nearest", **kw(s)),
    lambda x, s: equi_adaptive_avg_pool2d(x, (2, 3), **kw(s)),
], ids=["pad", "bilinear", "nearest", "adaptive_pool"])
def test_gradcheck_float64(op, sphere):
    x = torch.randn(2, 2, 4, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: op(t, sphere), (x,))


def test_empty_batch_gives_an_empty_output():
    x = torch.randn(0, 2, 4, 6)
    assert pad(x, 1).shape == (0, 2, 6, 8)
    for mode in ("bilinear", "nearest", "nearest-exact"):
        assert interpolate(x, (8, 12), mode=mode).shape == (0, 2, 8, 12)
    assert interpolate(torch.randn(2, 0, 4, 6), scale_factor=2).shape == (2, 0, 8, 12)
    assert equi_adaptive_avg_pool2d(x, 2).shape == (0, 2, 2, 2)


def test_the_pure_ops_have_no_separate_reference():
    """They are pure PyTorch themselves; equiconv.reference holds oracles of compiled ops only."""
    for name in ("pad", "interpolate", "equi_adaptive_avg_pool2d"):
        assert name in equiconv.functional.__all__ and not hasattr(equiconv.reference, name)
    assert {"SpherePad2d", "EquiUpsample", "EquiAdaptiveAvgPool2d"} <= set(equiconv.__all__)


# ---------------------------------------------------------------------------------- solid angle
