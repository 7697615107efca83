"""equi_conv2d's Triton kernels (forward, grad input, grad weight, grad bias) against the compiled
CPU operator and the reference, over layers that cross the poles and the seam, partial panoramas,
stride 2, dilation, groups and depthwise, sizes that are no multiple of any tile (the interpreter
uses 16 x 16 x 16 tiles: 17 columns and 17 channels cross an edge), channels_last; float32,
float64, float16 and bfloat16; determinism. Runs in Triton's interpreter where there is no GPU.

Tolerances (relative to the largest expected value): float32 2e-5 (the CPU op sums in another
order), float64 1e-12, float16 and bfloat16 operands rounded before tl.dot: 4e-3 and 3e-2 against
the float32 operator on the same (rounded) inputs.
"""
import pytest
import torch

import equiconv
from equiconv.functional import equi_conv2d
from tests.equiconv.triton.triton_cases import DEVICE, close, needs_triton, on_cpu

pytestmark = needs_triton

FULL = dict(lat_range=(90.0, -90.0), lon_span=360.0)
# (batch, in, out, H, W, kernel, stride, padding, dilation, groups, ranges, channels_last)
CASES = {
    "sphere-poles-seam": (2, 3, 5, 3, 9, 3, 1, 1, 1, 1, FULL, False),
    "tile-edges-stride2-cl": (1, 17, 18, 4, 34, 3, 2, 1, 1, 1, FULL, True),
    "partial-dilation-groups": (2, 4, 6, 5, 9, 3, 1, (0, 1), (1, 2), 2, dict(lat_range=(60.0, -20.0), lon_span=100.0), False),
    # padding wider than the image: output columns wrap onto one input column twice
    "wraps-wide-padding": (1, 2, 3, 3, 6, 3, 1, (1, 3), 1, 1, FULL, False),
    "depthwise-rect-band": (1, 2, 2, 4, 9, (3, 5), (2, 1), (1, 2), 1, 2, dict(lat_range=(90.0, 0.0), lon_span=360.0), True),
}


def _layer(case, dtype=torch.float32, seed=0):
    n, c, o, h, w, k, s, p, d, groups, ranges, cl = case
    gen = torch.Generator().manual_seed(seed)
    k = (k, k) if isinstance(k, int) else k
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    weight = torch.randn(o, c // groups, *k, generator=gen, dtype=torch.float64) / (c // groups * k[0] * k[1]) ** 0.5
    bias = torch.randn(o, generator=gen, dtype=torch.float64)
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)
    args = dict(stride=s, padding=p, dilation=d, groups=groups, **ranges)
    return [t.to(device=DEVICE, dtype=dtype) for t in (x, weight, bias)], args


def _forward_backward(x, weight, bias, args, backend):
    x, weight, bias = (t.detach().requires_grad_() for t in (x, weight, bias))
    out = equi_conv2d(x, weight, bias, backend=backend, **args)
    grad = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view(out.shape).to(out)
    out.backward(grad)
    return out, x.grad, weight.grad, bias.grad


@pytest.mark.parametrize("name", CASES)
def test_float32_matches_the_cpu_operator(name):
    (x, weight, bias), args = _layer(CASES[name])
    got = _forward_backward(x, weight, bias, args, "triton")
    want = _forward_backward(*on_cpu(x, weight, bias), args, "compiled")
    for a, b in zip(got, want):
        close(a, b, 2e-5)
    if CASES[name][-1]:  # channels_last in, channels_last out, read natively
        assert got[0].is_contiguous(memory_format=torch.channels_last)
        assert got[1].is_contiguous(memory_format=torch.channels_last)


def test_forward_matches_the_reference():
    (x, weight, bias), args = _layer(CASES["sphere-poles-seam"], torch.float64)
    close(equi_conv2d(x, weight, bias, backend="triton", **args),
          equiconv.reference.equi_conv2d(*on_cpu(x, weight, bias), **args), 1e-12)


def test_float64_matches_the_cpu_operator():
    (x, weight, bias), args = _layer(CASES["partial-dilation-groups"], torch.float64)
    for a, b in zip(_forward_backward(x, weight, bias, args, "triton"),
                    _forward_backward(*on_cpu(x, weight, bias), args, "compiled")):
        close(a, b, 1e-12)


@pytest.mark.slow  # 5-7 s in the interpreter
def test_gradcheck_float64():
    """Fast-mode gradcheck (random projections, a few evaluations: the interpreter is slow)."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 3, 6, generator=gen, dtype=torch.float64).to(DEVICE).requires_grad_()
    w = torch.randn(2, 1, 3, 3, generator=gen, dtype=torch.float64).to(DEVICE).requires_grad_()
    b = torch.randn(2, generator=gen, dtype=torch.float64).to(DEVICE).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w, b: equi_conv2d(x, w, b, padding=1, groups=2, backend="triton"),
                                    (x, w, b), fast_mode=True)


@pytest.mark.slow  # 5 s each in the interpreter
@pytest.mark.parametrize("dtype,tol", [(torch.float16, 4e-3), (torch.bfloat16, 3e-2)])
def test_half_precision_against_float32(dtype, tol):
    """Half inputs (bfloat16 goes through a float32 tl.dot under the interpreter, whose bfloat16
    dot is wrong; float16 exercises the low-precision dot) against the float32 operator on the
    same rounded values; results come back in the input dtype."""
    (x, weight, bias), args = _layer(CASES["tile-edges-stride2-cl"], dtype)
    got = _forward_backward(x, weight, bias, args, "triton")
    want = _forward_backward(*on_cpu(x, weight, bias), args, "compiled")
    for a, b in zip(got, want):
        assert a.dtype == dtype
        close(a, b, tol)


@pytest.mark.slow  # 5-7 s in the interpreter
def test_two_runs_are_bit_identical():
    (x, weight, bias), args = _layer(CASES["partial-dilation-groups"], seed=3)
    first = _forward_backward(x, weight, bias, args, "triton")
    second = _forward_backward(x, weight, bias, args, "triton")
    for a, b in zip(first, second):
        assert torch.equal(a, b)


@pytest.mark.slow  # 5-7 s in the interpreter
def test_double_backward_goes_through_the_triton_ops():
    """grad of a gradient penalty: the backward op's autograd, made of the Triton ops again."""
    (x, weight, bias), args = _layer(CASES["depthwise-rect-band"], torch.float64)

    def penalty(backend, x, weight):
        x, weight = x.detach().requires_grad_(), weight.detach().requires_grad_()
        out = equi_conv2d(x, weight, None, backend=backend, **args)
        (gx,) = torch.autograd.grad(out.square().sum(), x, create_graph=True)
        return torch.autograd.grad(gx.square().sum(), (x, weight))

    for a, b in zip(penalty("triton", x, weight), penalty("compiled", *on_cpu(x, weight))):
        close(a, b, 1e-10)


@pytest.mark.skipif(DEVICE.type != "cuda", reason="tiles are autotuned on a GPU only")
def test_autotuned_and_fixed_tiles_give_the_same_bits(monkeypatch):
    """The K block is the same in every configuration, so the tile the autotuner picks changes
    no output bit (what the GPU tests' fixed tile relies on)."""
    from equiconv.triton import config
    (x, weight, bias), args = _layer(CASES["tile-edges-stride2-cl"], seed=3)
    monkeypatch.setenv(config.AUTOTUNE_ENV, "0")
    fixed = _forward_backward(x, weight, bias, args, "triton")
    monkeypatch.setenv(config.AUTOTUNE_ENV, "1")
    for a, b in zip(_forward_backward(x, weight, bias, args, "triton"), fixed):
        assert torch.equal(a, b)


@pytest.mark.parametrize("transposed", [False, True])
def test_autocast_casts_as_the_compiled_ops_do(transposed):
    """Under autocast the Triton ops run in the autocast dtype, as the compiled ops (and
    nn.Conv2d) do, with float32 gradients for float32 leaves."""
    from equiconv.functional import equi_conv_transpose2d
    (x, weight, bias), args = _layer(CASES["sphere-poles-seam"])
    op = equi_conv_transpose2d if transposed else equi_conv2d
    if transposed:
        weight = weight.transpose(0, 1).contiguous()
        bias = bias[:weight.shape[1]]
        args = dict(padding=1)
    x, weight, bias = (t.detach().requires_grad_() for t in (x, weight, bias))
    outs = []
    for backend, tensors in (("triton", (x, weight, bias)), ("compiled", on_cpu(x, weight, bias))):
        with torch.autocast(tensors[0].device.type, dtype=torch.bfloat16):
            outs.append(op(*tensors, backend=backend, **args))
    assert outs[0].dtype == outs[1].dtype == torch.bfloat16
    close(outs[0].float(), outs[1].float(), 3e-2)
    outs[0].float().sum().backward()
    assert x.grad.dtype == weight.grad.dtype == bias.grad.dtype == torch.float32


def test_unbatched_and_empty_batch():
    (x, weight, bias), args = _layer(CASES["sphere-poles-seam"])
    close(equi_conv2d(x[0], weight, bias, backend="triton", **args),
          equi_conv2d(*on_cpu(x[0], weight, bias), **args), 2e-5)
    empty = equi_conv2d(x[:0], weight, bias, backend="triton", **args)
    assert empty.shape[0] == 0
