"""The resampling modules (SpherePad2d, EquiAdaptiveAvgPool2d, EquiUpsample) beside their torch.nn
counterparts: memory format, autocast, tracing and export at sizes other than the traced one."""
import warnings

import pytest
import torch

import equiconv

CL = torch.channels_last


@pytest.mark.parametrize("ours,theirs", [
    (lambda: equiconv.SpherePad2d(1), lambda: torch.nn.ZeroPad2d(1)),
    (lambda: equiconv.EquiAdaptiveAvgPool2d(3), lambda: torch.nn.AdaptiveAvgPool2d(3)),
    (lambda: equiconv.EquiUpsample(scale_factor=2, mode="bilinear"),
     lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear")),
    (lambda: equiconv.EquiUpsample(size=(4, 8), mode="bilinear"),
     lambda: torch.nn.Upsample(size=(4, 8), mode="bilinear")),
    (lambda: equiconv.EquiUpsample(scale_factor=2), lambda: torch.nn.Upsample(scale_factor=2)),
], ids=["pad", "adaptive", "upsample-bilinear", "downsample-bilinear", "upsample-nearest"])
@pytest.mark.parametrize("layout", [torch.contiguous_format, CL], ids=["contiguous", "channels_last"])
def test_image_modules_keep_the_memory_format_as_nn_does(ours, theirs, layout):
    x = torch.randn(2, 3, 8, 16).contiguous(memory_format=layout)
    expected = theirs()(x)
    got = ours()(x)
    assert got.is_contiguous(memory_format=layout) == expected.is_contiguous(memory_format=layout) == True  # noqa: E712
    assert got.shape == expected.shape


def test_adaptive_pool_under_cpu_bfloat16_autocast_keeps_float32_as_torch():
    x = torch.randn(2, 3, 8, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = torch.nn.AdaptiveAvgPool2d(3)(x)
        got = equiconv.EquiAdaptiveAvgPool2d(3)(x)
    assert got.dtype == expected.dtype == torch.float32
    torch.testing.assert_close(got, equiconv.EquiAdaptiveAvgPool2d(3)(x))


RESAMPLERS = {
    "upsample-bilinear": lambda: equiconv.EquiUpsample(scale_factor=2, mode="bilinear"),
    "upsample-nearest": lambda: equiconv.EquiUpsample(scale_factor=2),
    "size-bilinear": lambda: equiconv.EquiUpsample(size=(12, 20), mode="bilinear"),
    "size-nearest": lambda: equiconv.EquiUpsample(size=(12, 20)),
    "adaptive": lambda: equiconv.EquiAdaptiveAvgPool2d(3),
    "adaptive-rows": lambda: equiconv.EquiAdaptiveAvgPool2d((2, None)),
    "pad": lambda: equiconv.SpherePad2d((1, 2, 1, 0)),
}


NEW_SIZES = [(16, 32), (5, 9), (30, 14)]


def assert_trace_follows_the_size(fn, batch: int) -> None:
    """``fn`` traced at 8x16 gives what ``fn`` gives at every one of NEW_SIZES."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(fn, torch.randn(batch, 3, 8, 16))
    for size in NEW_SIZES:
        x = torch.randn(batch, 3, *size)
        torch.testing.assert_close(traced(x), fn(x))


@pytest.mark.parametrize("name", sorted(RESAMPLERS))
def test_resampling_modules_trace_like_torch_nn(name):
    """A traced module follows the input's size, as a traced nn.Upsample / nn.AdaptiveAvgPool2d does."""
    assert_trace_follows_the_size(RESAMPLERS[name](), batch=2)


@pytest.mark.parametrize("name", sorted(RESAMPLERS))
def test_resampling_modules_export_with_dynamic_height_and_width(name):
    module = RESAMPLERS[name]()
    dims = {2: torch.export.Dim("h", min=4, max=64), 3: torch.export.Dim("w", min=4, max=64)}
    exported = torch.export.export(module, (torch.randn(2, 3, 8, 16),), dynamic_shapes=({**dims},))
    for size in NEW_SIZES:
        x = torch.randn(2, 3, *size)
        torch.testing.assert_close(exported.module()(x), module(x))


def test_functional_resampling_traces_sizes_taken_from_the_input():
    """PSPNet's pattern: pool to (bins, input width), resize back to the input's size; traced, it
    follows the input's size as F.adaptive_avg_pool2d and F.interpolate do."""
    def pyramid(x):
        pooled = equiconv.functional.equi_adaptive_avg_pool2d(x, (2, x.shape[-1]))
        return equiconv.functional.interpolate(pooled, size=x.shape[-2:], mode="bilinear")

    assert_trace_follows_the_size(pyramid, batch=1)
