"""equi_max_pool2d's return_indices: flat input positions next to the winning tap, as
nn.MaxUnpool2d needs, across poles and partial panoramas, through compile and export."""
import pytest
import torch

import equiconv

F64 = torch.float64
SPHERE = ([90.0, -90.0], 360.0)
PARTIAL = ([60.0, -40.0], 300.0)


def test_max_pool_repr_shows_return_indices():
    assert "return_indices=True" in repr(equiconv.EquiMaxPool2d(2, return_indices=True))
    assert "return_indices" not in repr(equiconv.EquiMaxPool2d(2))


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_max_pool_indices_are_what_max_unpool_needs(backend):
    """return_indices gives the flat index of the input pixel nearest the winning tap, as
    nn.MaxPool2d does: at the equator a 2x2 window's taps sit on its four pixels, so unpooling
    there gives nn.MaxPool2d's result; everywhere, each unpooled maximum lands on a pixel next to
    its tap, and the indices are positions of the input (they were tap numbers 0..3 before)."""
    # the four pixels of each 2x2 block 100 apart, so that the taps' tiny bilinear reach across
    # (under a thousandth of a pixel near the equator) cannot reorder them: with random normal
    # values two close pixels sometimes swapped, and the test failed at random
    generator = torch.Generator().manual_seed(0)
    ranks = torch.rand(1, 2, 32, 64, 2, 2, generator=generator).flatten(-2).argsort(-1).reshape(1, 2, 32, 64, 2, 2)
    x = (100.0 * ranks + torch.rand(ranks.shape, generator=generator)).permute(0, 1, 2, 4, 3, 5).reshape(1, 2, 64, 128)
    x = x.to(F64)
    out, indices = equiconv.EquiMaxPool2d(2, return_indices=True, backend=backend)(x)
    theirs_out, theirs_indices = torch.nn.MaxPool2d(2, return_indices=True)(x)
    assert torch.equal(indices[..., 15:17, :], theirs_indices[..., 15:17, :])  # input rows 30..33
    unpool = torch.nn.MaxUnpool2d(2)
    ours_back, theirs_back = unpool(out, indices, output_size=x.shape[-2:]), unpool(theirs_out, theirs_indices)
    assert torch.equal(ours_back[..., 30:34, :] != 0, theirs_back[..., 30:34, :] != 0)
    torch.testing.assert_close(ours_back[..., 30:34, :], theirs_back[..., 30:34, :], rtol=0, atol=1.0)
    # each pixel nearest a winning tap: within a pixel of where the tap reads, by sampling_grid
    rows, cols = equiconv.sampling_grid(64, 128, 2, 2)
    taps = torch.ops.equiconv.equi_max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], *SPHERE)[1]
    r = torch.arange(32)[:, None]
    tap_y = rows.reshape(32, 4)[r, taps]
    tap_x = cols.reshape(32, 4)[r, taps] + 2 * torch.arange(64)
    dx = (indices % 128 - tap_x).remainder(128)
    assert ((indices // 128 - tap_y).abs() <= 0.5 + 1e-9).all()
    assert (torch.minimum(dx, 128 - dx) <= 0.5 + 1e-9).all()


def test_max_pool_indices_across_a_pole_and_outside_a_partial_panorama():
    """Indices always name a pixel of the input: across a pole the pixel the boundary rules read,
    outside a partial panorama the nearest one inside."""
    for sphere in (SPHERE, PARTIAL):
        x = torch.randn(2, 3, 9, 20, dtype=F64)
        _, indices = equiconv.functional.equi_max_pool2d(x, 3, 2, 2, dilation=2, lat_range=sphere[0],
                                                         lon_span=sphere[1], return_indices=True)
        assert indices.dtype == torch.long and 0 <= indices.min() and indices.max() < 9 * 20
        _, again = equiconv.functional.equi_max_pool2d(x, 3, 2, 2, dilation=2, lat_range=sphere[0],
                                                       lon_span=sphere[1], return_indices=True, backend="reference")
        assert torch.equal(indices, again)


def test_max_pool_indices_compile_and_export():
    pool = equiconv.EquiMaxPool2d(2, return_indices=True)
    x = torch.randn(1, 2, 16, 32)
    want = pool(x)[1]
    assert torch.equal(torch.compile(pool, fullgraph=True, backend="aot_eager")(x)[1], want)
    assert torch.equal(torch.export.export(pool, (x,)).module()(x)[1], want)
