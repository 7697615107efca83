"""The sampling plan's index tables are int32 (what the CPU and CUDA kernels index in 32 bits), and
a geometry whose tables or extended image could exceed 2^31 - 1 is refused, from its parameters,
before anything is built."""
import pytest
import torch
from hypothesis import given, settings

import equiconv
from equiconv.geometry import PLAN_TABLES
from tests.equiconv.test_geometry_extremes import run_isolated
from tests.helpers.strategies import layers

INT32_MAX = 2**31 - 1
SPHERE = ([90.0, -90.0], 360.0)


def raw_plan(height, width, kernel=(3, 3), stride=(1, 1), padding=(1, 1), lat_lon=SPHERE):
    """The compiled op itself (the Python checks allow any size below 2^31)."""
    return torch.ops.equiconv.sampling_plan(height, width, list(kernel), list(stride), list(padding), [1, 1], *lat_lon)


@settings(max_examples=25, deadline=None)
@given(layers())
def test_index_tables_are_int32_and_consistent(cfg):
    plan = equiconv.geometry.sampling_plan(cfg["height"], cfg["width"], cfg["kernel_size"], cfg["stride"],
                                           cfg["padding"], cfg["dilation"], lat_range=cfg["lat_range"],
                                           lon_span=cfg["lon_span"])
    for name in PLAN_TABLES:
        assert plan[name].dtype == (torch.float64 if name == "tap_weight" else torch.int32), name
    rc = plan["tap_rc"].view(-1, 2).long()
    assert torch.equal(rc[:, 0] * plan["ext_w"] + rc[:, 1], plan["tap_offset"].long())
    assert plan["tap_offset"].max() < plan["ext_h"] * plan["ext_w"] - plan["ext_w"]  # the lower corners too


def test_largest_full_sphere_layer_builds_and_one_size_up_is_refused():
    """23168x46336 (3x3, padding 1) is the largest 2:1 full-sphere input the error message names."""
    shape, offset = raw_plan(23168, 46336)[:2]
    ext_h, ext_w = shape.tolist()
    assert offset.dtype == torch.int32 and 0 <= offset.min() and offset.max() < ext_h * ext_w <= INT32_MAX
    with pytest.raises(ValueError, match=r"input 23169x46338 .*32-bit tables.* 2147483647 .*23168x46336"):
        raw_plan(23169, 46338)


def test_partial_longitude_bound_counts_the_clamped_columns():
    """Columns of a partial panorama are clamped to two output widths around the image: the bound
    (2 (out_w - 1) + W + 4) x (H + 4) refuses a 10000x100000 band that a full circle would take."""
    partial = ([10.0, -10.0], 90.0)
    with pytest.raises(ValueError, match=r"may span 10004x300002 "):
        raw_plan(10000, 100000, lat_lon=partial)
    shape = raw_plan(10000, 100000, lat_lon=([10.0, -10.0], 360.0))[0]
    assert shape.prod() <= INT32_MAX


@pytest.mark.parametrize("height,width,kernel,padding,message", [
    (2**30, 2**30, (3, 3), (1, 1), r"input 1073741824x1073741824 "),
    # ext fits (~104 H positions) but 4 * out_h * taps weights do not
    (10**7, 100, (1, 100), (0, 0), r"tap weights number 4000000000;"),
])
def test_oversized_geometry_is_refused_before_any_table_is_built(height, width, kernel, padding, message):
    """Within 2 GiB: building these row tables alone would take 8 GB or more."""
    result = run_isolated(f"""
import re, torch, equiconv
try:
    torch.ops.equiconv.sampling_plan({height}, {width}, {list(kernel)}, [1, 1], {list(padding)}, [1, 1], [90.0, -90.0], 360.0)
except ValueError as e:
    assert re.search({message!r}, str(e)), e
    print("refused")
""", memory_gib=2)
    assert result.returncode == 0 and result.stdout.strip() == "refused", result.stderr[-2000:]
