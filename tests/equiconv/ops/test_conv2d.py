"""The compiled operator against the reference and against the contract's boundary rules."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, strategies as st

import equiconv
from equiconv import EquiConv2d, reference
from equiconv.functional import equi_conv2d
from tests.equiconv.ops.conv_cases import conv_kwargs, make_tensors, pole_layer
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.helpers.sphere_oracle import sphere_extended
from tests.helpers.strategies import layers

F64 = torch.float64
X = torch.randn(1, 4, 8, 16)
W = torch.randn(6, 4, 3, 3)


class TestConv2d(OperatorTester):
    """equi_conv2d against equiconv.reference over random layers (groups, strides, dilations,
    padding, whole sphere, bands and partial panoramas), with and without bias."""
    op = equi_conv2d
    reference = reference.equi_conv2d
    library_op = torch.ops.equiconv.equi_conv2d.default
    dtypes = (torch.float32, torch.float64, torch.bfloat16)  # float16: the CPU core refuses it
    slow_tests = ("test_gradcheck_and_gradgradcheck",)  # float64 second derivatives: long
    bad_inputs = [
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
    ]

    def make_case(self, rng, gen):
        groups = rng.choice([1, 2])
        kernel, stride, dilation, padding = ([rng.randint(*span) for _ in range(2)]
                                             for span in ((1, 3), (1, 2), (1, 2), (0, 2)))
        least = [max(lo, d * (k - 1) + 1 - 2 * p) for lo, k, d, p in zip((3, 5), kernel, dilation, padding)]
        x = randn(gen, rng.randint(1, 2), groups * rng.randint(1, 2), rng.randint(least[0], 7), rng.randint(least[1], 10))
        out_channels = groups * rng.randint(1, 2)
        weight = randn(gen, out_channels, x.shape[1] // groups, *kernel)
        bias = randn(gen, out_channels) if rng.random() < 0.7 else None
        return Case((x, weight, bias), dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                                            **rng.sphere()))

    def library_args(self, args, kwargs):
        k = kwargs
        return (*args, k["stride"], k["padding"], k["dilation"], k["groups"], list(k["lat_range"]), k["lon_span"])


@given(layers())
@example(pole_layer())
@example(pole_layer(padding=(3, 1), dilation=(1, 1), width=13, stride=(2, 1)))
@example(pole_layer(batch=1, in_channels=1, out_channels=1, kernel_size=(1, 2), padding=(0, 0),
                    dilation=(1, 1), height=3, width=5, lat_range=(20.0, 0.0), lon_span=30.0))
def test_compiled_equals_reference_forward_and_backward(cfg):
    x, w, b = make_tensors(cfg)
    results = []
    for backend in ("compiled", "reference"):
        xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
        y = equi_conv2d(xs, ws, bs, backend=backend, **conv_kwargs(cfg))
        probe = torch.linspace(-1, 1, y.numel(), dtype=F64).view_as(y)
        (y * probe).sum().backward()
        results.append((y, xs.grad, ws.grad, bs.grad))
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.slow  # float64 gradcheck of the convolution
@pytest.mark.parametrize("kwargs", [
    dict(padding=1),                                                    # full sphere: poles and wrap
    dict(stride=2, padding=(2, 1), dilation=2, groups=2),
    dict(padding=1, lat_range=(60.0, -10.0), lon_span=120.0),          # partial: zeros outside
    dict(kernel=(2, 3), padding=(0, 1), lat_range=(90.0, 0.0)),         # upper hemisphere band
])
def test_gradcheck_float64(kwargs):
    kwargs = dict(kwargs)
    kernel = kwargs.pop("kernel", (3, 3))
    groups = kwargs.get("groups", 1)
    torch.manual_seed(0)
    x = torch.randn(2, 4, 7, 10, dtype=F64, requires_grad=True)
    w = torch.randn(2 * groups, 4 // groups, *kernel, dtype=F64, requires_grad=True)
    b = torch.randn(2 * groups, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: equi_conv2d(x, w, b, **kwargs), (x, w, b))


@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from([1, 3, 5]), st.integers(3, 6), st.integers(-4, 4),
       st.booleans())
def test_rolling_longitude_rolls_the_output(stride, dilation, k, columns_per_stride, m, full_sphere):
    width = stride * columns_per_stride * 2  # the output grid tiles the circle exactly
    pad = dilation * (k - 1) // 2
    lat_range = (90.0, -90.0) if full_sphere else (50.0, -20.0)
    torch.manual_seed(1)
    x = torch.randn(1, 2, 9, width, dtype=F64)
    w = torch.randn(3, 2, k, k, dtype=F64)
    kwargs = dict(stride=(1, stride), padding=pad, dilation=dilation, lat_range=lat_range)
    y = equi_conv2d(x, w, None, **kwargs)
    assert y.shape[-1] * stride == width
    y_rolled = equi_conv2d(torch.roll(x, stride * m, dims=3), w, None, **kwargs)
    torch.testing.assert_close(y_rolled, torch.roll(y, m, dims=3), rtol=0, atol=1e-12)


@pytest.mark.parametrize("height,width,padding,dilation", [
    (8, 16, 1, 1), (7, 13, 1, 1),
    (8, 16, (2, 1), (2, 1)), (7, 13, (3, 1), 1),  # these read rows -1 and H, across the poles
])
def test_pole_crossing_and_wrap_match_an_explicit_construction(height, width, padding, dilation):
    torch.manual_seed(2)
    x = torch.randn(1, 2, height, width, dtype=F64)
    weight = torch.randn(3, 2, 3, 3, dtype=F64)
    rows, cols = equiconv.sampling_grid(height, width, 3, padding=padding, dilation=dilation)
    ho, margin = rows.shape[0], 2
    ext = sphere_extended(x, margin)
    ys = rows[..., None] + margin                                    # (Ho, kH, kW, 1)
    xs = cols[..., None] + torch.arange(width, dtype=F64) + width    # (Ho, kH, kW, Wo)
    ys = ys.expand_as(xs)
    grid = torch.stack([2 * xs / (ext.shape[-1] - 1) - 1, 2 * ys / (ext.shape[-2] - 1) - 1], dim=-1)
    samples = F.grid_sample(ext, grid.reshape(1, -1, width, 2), mode="bilinear", align_corners=True)
    samples = samples.view(1, 2, ho, 3, 3, width)
    expected = torch.einsum("ncrijq,ocij->norq", samples, weight)
    got = equi_conv2d(x, weight, None, padding=padding, dilation=dilation)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_float32_and_bfloat16_follow_float64():
    torch.manual_seed(3)
    x, w, b = torch.randn(2, 8, 16, 32, dtype=F64), torch.randn(8, 8, 3, 3, dtype=F64), torch.randn(8, dtype=F64)
    want = equi_conv2d(x, w, b, padding=1)
    for dtype, tol in ((torch.float32, 1e-4), (torch.bfloat16, 0.1)):
        xs, ws, bs = (t.to(dtype).requires_grad_() for t in (x, w, b))
        y = equi_conv2d(xs, ws, bs, padding=1)
        assert y.dtype == dtype
        torch.testing.assert_close(y.to(F64), want, rtol=tol, atol=tol * want.abs().max().item())
        y.sum().backward()
        assert xs.grad.dtype == dtype and ws.grad.dtype == dtype and torch.isfinite(ws.grad.float()).all()


@pytest.mark.parametrize("groups,stride", [(1, 1), (2, 1), (2, 2)])
@pytest.mark.parametrize("height,width", [(16, 64), (4, 8)])
@pytest.mark.parametrize("bias", [True, False])
def test_float32_gemm_paths_follow_float64(groups, stride, height, width, bias):
    """float32 against float64 through the CPU core's GEMMs: groups, stride, and the bias both as a
    weight column against a row of ones (one group, more output pixels than weights per output
    channel: 16 x 64) and through addmm (groups, or the 4 x 8 image)."""
    torch.manual_seed(6)
    x, w = torch.randn(2, 16, height, width, dtype=F64), torch.randn(8, 16 // groups, 3, 3, dtype=F64)
    b = torch.randn(8, dtype=F64) if bias else None
    want = [t.requires_grad_() for t in (x.clone(), w.clone())]
    y = equi_conv2d(*want, b, stride=stride, padding=1, groups=groups)
    go = torch.randn_like(y)
    y.backward(go)
    got = [t.float().requires_grad_() for t in (x, w)]
    y32 = equi_conv2d(*got, None if b is None else b.float(), stride=stride, padding=1, groups=groups)
    y32.backward(go.float())
    for a, b in ((y32, y), (got[0].grad, want[0].grad), (got[1].grad, want[1].grad)):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-4 * b.abs().max().item())


def test_empty_batch_gives_empty_output_and_gradients():
    x = torch.randn(0, 3, 8, 16, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    y = equi_conv2d(x, w, None, padding=1)
    assert y.shape == (0, 4, 8, 16)
    y.sum().backward()
    assert x.grad.shape == x.shape and torch.equal(w.grad, torch.zeros_like(w))


def test_unbatched_input_like_conv2d():
    x, w = torch.randn(3, 8, 16), torch.randn(4, 3, 3, 3)
    torch.testing.assert_close(equi_conv2d(x, w, None, padding=1), equi_conv2d(x[None], w, None, padding=1)[0])


def test_channels_last_and_strided_inputs():
    x, w = torch.randn(2, 4, 8, 16), torch.randn(4, 4, 3, 3)
    want = equi_conv2d(x, w, None, padding=1)
    torch.testing.assert_close(equi_conv2d(x.to(memory_format=torch.channels_last), w, None, padding=1), want)
    wide = torch.randn(2, 4, 8, 32)
    torch.testing.assert_close(equi_conv2d(wide[..., ::2], w, None, padding=1),
                               equi_conv2d(wide[..., ::2].contiguous(), w, None, padding=1))


def test_large_batch_is_chunked_consistently():
    torch.manual_seed(4)
    x, w = torch.randn(9, 3, 12, 24, dtype=F64), torch.randn(5, 3, 3, 3, dtype=F64)
    full = equi_conv2d(x, w, None, padding=1)
    one_by_one = torch.cat([equi_conv2d(x[i:i + 1], w, None, padding=1) for i in range(9)])
    torch.testing.assert_close(full, one_by_one, rtol=1e-12, atol=1e-12)


def test_images_beyond_the_cpu_chunk_budget_give_what_each_gives_alone():
    # 128 float64 channels at 64x128 extend to about 9 MB an image, so the CPU core extends (and
    # folds gradients) one image at a time: three chunks for a batch of three
    torch.manual_seed(6)
    x = torch.randn(3, 128, 64, 128, dtype=F64, requires_grad=True)
    w = torch.randn(4, 128, 3, 3, dtype=F64, requires_grad=True)
    g = torch.randn(3, 4, 64, 128, dtype=F64)
    out = equi_conv2d(x, w, None, padding=1)
    grad_x, grad_w = torch.autograd.grad(out, (x, w), g)
    alone = [torch.autograd.grad(equi_conv2d(x[i:i + 1], w, None, padding=1), (x, w), g[i:i + 1]) for i in range(3)]
    torch.testing.assert_close(out, torch.cat([equi_conv2d(x[i:i + 1], w, None, padding=1) for i in range(3)]),
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_x, sum(a[0] for a in alone), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_w, sum(a[1] for a in alone), rtol=1e-10, atol=1e-10)


def test_backward_is_deterministic():
    torch.manual_seed(5)
    x = torch.randn(3, 6, 20, 40, requires_grad=True)
    w = torch.randn(6, 6, 3, 3, requires_grad=True)
    grads = []
    for _ in range(2):
        x.grad = w.grad = None
        equi_conv2d(x, w, None, padding=1).square().sum().backward()
        grads.append((x.grad.clone(), w.grad.clone()))
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("bias", [True, False])
def test_opcheck(bias):
    x = torch.randn(2, 4, 8, 16, dtype=F64, requires_grad=True)
    w = torch.randn(6, 2, 3, 3, dtype=F64, requires_grad=True)
    b = torch.randn(6, dtype=F64, requires_grad=True) if bias else None
    torch.library.opcheck(torch.ops.equiconv.equi_conv2d.default,
                          (x, w, b, [1, 2], [1, 1], [1, 1], 2, [90.0, -90.0], 360.0))


class TinyPanoNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = equiconv.EquiConv2d(3, 8, 3, padding=1)
        self.b = equiconv.EquiConv2d(8, 4, 3, stride=2, padding=1)

    def forward(self, x):
        return self.b(torch.relu(self.a(x))).mean(dim=(2, 3))


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_torch_compile_fullgraph(backend):
    torch.manual_seed(6)
    net = TinyPanoNet()
    x = torch.randn(2, 3, 16, 32)
    compiled = torch.compile(net, fullgraph=True, backend=backend)
    y = compiled(x)
    torch.testing.assert_close(y, net(x))
    y.sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    net(x).sum().backward()
    for got, p in zip(grads, net.parameters()):
        torch.testing.assert_close(got, p.grad)


def test_torch_export_keeps_the_custom_op():
    net = TinyPanoNet().eval()
    x = torch.randn(1, 3, 16, 32)
    exported = torch.export.export(net, (x,))
    targets = {str(node.target) for node in exported.graph.nodes if node.op == "call_function"}
    assert "equiconv.equi_conv2d.default" in targets
    torch.testing.assert_close(exported.module()(x), net(x))


def test_cpu_autocast_runs_in_bfloat16_and_keeps_float32_gradients():
    torch.manual_seed(7)
    first, conv = equiconv.EquiConv2d(4, 4, 3, padding=1), equiconv.EquiConv2d(4, 6, 3, padding=1)
    x = torch.randn(2, 4, 8, 16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = conv(first(x))  # the second layer gets bfloat16 input and float32 weights
    assert y.dtype == torch.bfloat16
    want = conv(first(x))
    torch.testing.assert_close(y.float(), want, rtol=0.05, atol=0.05 * want.abs().max().item())
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and conv.weight.grad.dtype == torch.float32
