"""Max and average pooling's Triton kernels, and the transposed convolution through the Triton
convolution's input-gradient op, against the compiled CPU operators: values, max pooling's
winners (return_indices) and ties as the CPU op breaks them (the first largest tap, the first
NaN), gradients; whole sphere, partial panorama, stride 2, dilation, channels_last; float64
within 1e-12, float32 within 2e-5, bfloat16 loads and stores against float32 within 1e-2."""
import pytest
import torch

from equiconv.functional import equi_avg_pool2d, equi_conv_transpose2d, equi_max_pool2d
from tests.equiconv.triton.triton_cases import DEVICE, close, needs_triton, on_cpu

pytestmark = needs_triton

POOLS = {"max": equi_max_pool2d, "avg": equi_avg_pool2d}
LAYERS = {
    "sphere-2x2": dict(kernel_size=2),
    "sphere-3x3-pad": dict(kernel_size=3, stride=1, padding=1),
    "wraps-wide-padding": dict(kernel_size=3, stride=1, padding=(1, 3)),  # 22 output columns on 18
    "partial-stride2-dilated": dict(kernel_size=3, stride=2, padding=1, dilation=2, lat_range=(60.0, -20.0),
                                    lon_span=100.0),
}


def _image(dtype=torch.float64, cl=False, seed=0, shape=(2, 3, 6, 18)):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = x.contiguous(memory_format=torch.channels_last) if cl else x
    return x.to(device=DEVICE, dtype=dtype)


def _run(pool, x, backend, args):
    x = x.detach().requires_grad_()
    out = POOLS[pool](x, backend=backend, **args)
    out.backward(torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view(out.shape).to(out))
    return out, x.grad


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("pool", POOLS)
def test_matches_the_cpu_operator(pool, layer):
    x = _image(cl=layer == "sphere-3x3-pad")
    for a, b in zip(_run(pool, x, "triton", LAYERS[layer]), _run(pool, *on_cpu(x), "compiled", LAYERS[layer])):
        close(a, b, 1e-12)


@pytest.mark.parametrize("layer", LAYERS)
def test_max_pooling_winners_match(layer):
    x = _image(torch.float32, seed=1)
    got = equi_max_pool2d(x, backend="triton", return_indices=True, **LAYERS[layer])
    want = equi_max_pool2d(*on_cpu(x), return_indices=True, **LAYERS[layer])
    assert torch.equal(got[1].cpu(), want[1])
    close(got[0], want[0], 1e-6)  # a sample may differ in its last bit (the CPU kernels may fuse a multiply-add)


def test_ties_and_nans_pick_the_cpu_winner():
    """Ties: zeros everywhere (every tap samples exactly 0: the first tap wins) with plateaus of
    equal values on the grid; NaNs: the first NaN tap wins and propagates."""
    x = torch.zeros(1, 2, 6, 12, dtype=torch.float32)
    x[0, 0, 2:4, 3:9] = 1.0
    x[0, 1, 3, 5] = float("nan")
    x[0, 1, 3, 6] = float("nan")
    x = x.to(DEVICE)
    args = dict(kernel_size=3, stride=1, padding=1)
    got = equi_max_pool2d(x, backend="triton", return_indices=True, **args)
    want = equi_max_pool2d(x.cpu(), return_indices=True, **args)
    assert torch.equal(got[1].cpu(), want[1])
    assert torch.equal(got[0].cpu().isnan(), want[0].isnan())
    close(torch.nan_to_num(got[0]), torch.nan_to_num(want[0]), 0.0)
    # the gradient follows the winner the CPU op picked
    xs = [t.detach().requires_grad_() for t in (x, x.cpu())]
    for t, backend in zip(xs, ("triton", "compiled")):
        equi_max_pool2d(t, backend=backend, **args).sum().backward()
    close(xs[0].grad, xs[1].grad, 1e-6)  # summed in another order


@pytest.mark.parametrize("pool", POOLS)
def test_float32_and_bfloat16(pool):
    args = LAYERS["sphere-3x3-pad"]
    for dtype, tol in ((torch.float32, 2e-5), (torch.bfloat16, 1e-2)):
        x = _image(dtype, shape=(1, 17, 3, 17))  # 17 channels and columns: two tiles each way
        got = _run(pool, x, "triton", args)
        want = _run(pool, *on_cpu(x), "compiled", args)
        for a, b in zip(got, want):
            assert a.dtype == dtype
            close(a, b, tol)


def test_pooling_is_bit_identical_across_runs():
    x = _image(torch.float32, seed=2, shape=(1, 2, 4, 10))
    for pool in POOLS:
        first, second = (_run(pool, x, "triton", LAYERS["sphere-3x3-pad"]) for _ in range(2))
        assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_transposed_convolution_through_the_input_gradient():
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(1, 3, 3, 8, generator=gen, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    w, b = torch.randn(3, 2, 3, 3, generator=gen, dtype=torch.float64), torch.randn(2, generator=gen, dtype=torch.float64)
    args = dict(stride=2, padding=1, output_padding=1)
    results = []
    for backend, tensors in (("triton", [t.to(DEVICE) for t in (x, w, b)]), ("compiled", [x, w, b])):
        xx, ww, bb = (t.detach().requires_grad_() for t in tensors)
        out = equi_conv_transpose2d(xx, ww, bb, backend=backend, **args)
        out.backward(torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape).to(out))
        results.append((out, xx.grad, ww.grad, bb.grad))
    assert results[0][0].is_contiguous(memory_format=torch.channels_last)
    for a, b in zip(*results):
        close(a, b, 1e-12)
