"""Issue 28, the library items: every op of the equiconv namespace has gradients of every order
and fake kernels that match it in both memory layouts; the resampling modules trace and export
like their torch.nn counterparts; smaller deviations from torch."""
import warnings

import pytest
import torch

import equiconv  # noqa: F401  (registers torch.ops.equiconv.*)

F64 = torch.float64
CL = torch.channels_last
SPHERE = ([90.0, -90.0], 360.0)
PARTIAL = ([60.0, -40.0], 300.0)
POOL = ([3, 3], [2, 2], [1, 1], [1, 1])


def registered_ops():
    """Every op the compiled core declares in the equiconv namespace, found at run time."""
    return sorted(name.split("::")[1] for name in torch._C._dispatch_get_all_op_names()
                  if name.startswith("equiconv::"))


def _t(*shape, layout, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=F64, generator=g).contiguous(memory_format=layout)


def _max_indices(x, geometry, sphere):
    return torch.ops.equiconv.equi_max_pool2d(x, *geometry, *sphere)[1]


def samples(layout, sphere):
    """Arguments for each op, its 4-D tensors in ``layout``. A new op must get a line here
    (test_every_op_has_samples fails until it does)."""
    x = _t(2, 4, 7, 12, layout=layout, seed=0)
    w = _t(6, 2, 3, 3, layout=layout, seed=1)
    b = _t(6, seed=2, layout=torch.contiguous_format)
    conv = ([1, 2], [1, 1], [1, 1], 2, *sphere)
    conv_out = torch.ops.equiconv.equi_conv2d(x, w, b, *conv)
    go_conv = _t(*conv_out.shape, layout=layout, seed=3)
    wt = _t(4, 3, 3, 3, layout=layout, seed=4)
    transposed = ([2, 2], [1, 1], [1, 1], [1, 1], 1, *sphere)
    pooled = torch.ops.equiconv.equi_avg_pool2d(x, *POOL, *sphere)
    go_pool = _t(*pooled.shape, layout=layout, seed=5)
    return {
        "equi_conv2d": (x, w, b, *conv),
        "equi_conv2d_backward": (go_conv, x, w, *conv, [True, True, True]),
        "equi_conv_transpose2d": (x, wt, _t(3, layout=torch.contiguous_format, seed=6), *transposed),
        "equi_max_pool2d": (x, *POOL, *sphere),
        "equi_max_pool2d_backward": (go_pool, _max_indices(x, POOL, sphere), [7, 12], *POOL, *sphere),
        "equi_avg_pool2d": (x, *POOL, *sphere),
        "equi_avg_pool2d_backward": (go_pool, [7, 12], *POOL, *sphere),
        "sampling_grid": (7, 12, [3, 3], [1, 2], [1, 1], [1, 1], *sphere),
        "sampling_plan": (7, 12, [3, 3], [1, 2], [1, 1], [1, 1], *sphere),
    }


def tensor_ops():
    """The operators and their backward ops: every registered op that takes a tensor. The others
    (sampling_grid, sampling_plan) turn numbers into geometry; they are CompositeImplicitAutograd
    in the core and have no fake kernel to check."""
    return [name for name in registered_ops()
            if any(isinstance(a.type, torch.TensorType)
                   for a in getattr(torch.ops.equiconv, name).default._schema.arguments)]


def test_every_op_has_samples():
    assert registered_ops() == sorted(samples(torch.contiguous_format, SPHERE))


def _differentiable(args):
    return [i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.is_floating_point()]


@pytest.mark.parametrize("sphere", [SPHERE, PARTIAL], ids=["sphere", "partial"])
@pytest.mark.parametrize("name", registered_ops())
def test_every_op_has_gradients_of_every_order(name, sphere):
    """gradgradcheck in float64 through each op, forward and backward ops alike. A missing
    autograd registration only warns in torch (and gives wrong higher gradients): warnings fail."""
    op = getattr(torch.ops.equiconv, name).default
    args = list(samples(torch.contiguous_format, sphere)[name])
    where = _differentiable(args)
    if not where:  # geometry: no tensor in, nothing to differentiate
        assert not any(t.requires_grad for t in torch.utils._pytree.tree_leaves(op(*args))
                       if isinstance(t, torch.Tensor))
        return

    def call(*tensors):
        full = list(args)
        for i, t in zip(where, tensors):
            full[i] = t
        return op(*full)

    tensors = tuple(args[i].detach().clone().requires_grad_() for i in where)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.autograd.gradcheck(call, tensors)
        assert torch.autograd.gradgradcheck(call, tensors)


@pytest.mark.parametrize("layout", [torch.contiguous_format, CL], ids=["contiguous", "channels_last"])
@pytest.mark.parametrize("name", tensor_ops())
def test_opcheck_every_op(name, layout):
    """Schema, autograd registration, fake kernel (shapes and strides) and AOT dispatch of each op."""
    args = samples(layout, SPHERE)[name]
    args = tuple(a.detach().clone().requires_grad_() if isinstance(a, torch.Tensor) and a.is_floating_point() else a
                 for a in args)
    torch.library.opcheck(getattr(torch.ops.equiconv, name).default, args)


def test_max_pool_r1_penalty_matches_the_reference():
    """The issue's case: an R1-style penalty through conv + max pool (a second-order gradient)."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 16, dtype=F64)
    w = torch.randn(4, 3, 3, 3, dtype=F64)
    grads = []
    for backend in ("compiled", "reference"):
        ws, xs = w.clone().requires_grad_(), x.clone().requires_grad_()
        y = equiconv.functional.equi_max_pool2d(
            equiconv.functional.equi_conv2d(xs, ws, padding=1, backend=backend), 3, 2, 1, backend=backend)
        (gx,) = torch.autograd.grad(y.square().sum(), xs, create_graph=True)
        grads.append(torch.autograd.grad(gx.square().sum(), ws)[0])
    torch.testing.assert_close(*grads)


def test_compiled_channels_last_relu_max_pool_conv_backward():
    """Inductor of relu -> equi_max_pool2d -> conv on channels_last input, through backward. In a
    fresh cache: AOTAutograd's cache keys on the traced forward, not on a custom op's Python
    autograd, so a graph cached under an older equiconv would be replayed."""
    from torch._inductor.utils import fresh_cache

    from equiconv import EquiConv2d, EquiMaxPool2d

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.ReLU(), EquiMaxPool2d(3, 2, 1), EquiConv2d(4, 5, 3, padding=1))
    net = net.to(memory_format=CL)
    x = torch.randn(2, 4, 16, 32).contiguous(memory_format=CL)
    compiled = torch.compile(net, backend="inductor", fullgraph=True)
    with fresh_cache():
        compiled(x).square().sum().backward()
    got = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    net(x).square().sum().backward()
    for g, p in zip(got, net.parameters()):
        torch.testing.assert_close(g, p.grad)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("shape", [(0, 2, 4, 6), (2, 0, 4, 6)], ids=["no batch", "no channels"])
def test_interpolate_keeps_autograd_on_an_empty_input(mode, shape):
    """As F.interpolate on an empty batch: the output requires grad and backward gives an empty grad."""
    x = torch.randn(*shape, requires_grad=True)
    y = equiconv.functional.interpolate(x, (8, 12), mode=mode)
    assert y.shape == (*shape[:2], 8, 12) and y.requires_grad
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_every_equiconv_name_in_the_readme_exists():
    """The README's usage names (equiconv.convert.KINDS among them) resolve as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    names = sorted(set(re.findall(r"(?<![\w/])equiconv(?:\.\w+)+", text)))
    assert "equiconv.convert.KINDS" in names
    missing = []
    for name in names:
        obj = equiconv
        for part in name.split(".")[1:]:
            obj = getattr(obj, part, missing)
        if obj is missing:
            missing.append(name)
    assert not missing
    assert equiconv.convert.KINDS == ("conv", "conv_transpose", "max_pool", "avg_pool", "adaptive_avg_pool",
                                      "upsample")


W_T = torch.randn(4, 2, 3, 3)


@pytest.mark.parametrize("call,match", [
    (lambda: equiconv.functional.equi_conv_transpose2d(torch.randn(1, 4, 1, 1), W_T, padding=1),
     r"^output height 1 is too small for lat_range"),
    (lambda: equiconv.functional.equi_conv_transpose2d(torch.randn(1, 4, 4, 3), W_T, padding=(0, 1)),
     r"^output width 3 is too small for lon_span"),
])
def test_conv_transpose_errors_call_its_output_output(call, match):
    """The size checks run on the transposed convolution's output grid, and say so."""
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("output_size,error,match", [
    ("16x32", TypeError, r"output_size must be .*'16x32'"),
    ((17.5, 33), TypeError, r"output_size must be .*17\.5"),
    ((1, 17, 33), ValueError, r"output_size must have 2 or 4 elements for 4-D input, got \(1, 17, 33\)"),
    ((99,), ValueError, r"output_size must have 2 or 4 elements"),
])
def test_conv_transpose_output_size_is_checked_like_torch(output_size, error, match):
    up = equiconv.EquiConvTranspose2d(4, 2, 3, stride=2)
    x = torch.randn(1, 4, 8, 16)
    with pytest.raises(error, match=match):
        up(x, output_size=output_size)
    with pytest.raises((TypeError, ValueError)):  # torch refuses each of them too
        torch.nn.ConvTranspose2d(4, 2, 3, stride=2)(x, output_size=output_size)


def test_conv_transpose_output_size_takes_what_torch_takes():
    ours, theirs = equiconv.EquiConvTranspose2d(4, 2, 3, stride=2), torch.nn.ConvTranspose2d(4, 2, 3, stride=2)
    batched, unbatched = torch.randn(1, 4, 8, 16), torch.randn(4, 8, 16)
    for x, output_size in ((batched, (1, 2, 17, 33)), (batched, torch.Size([17, 33])), (unbatched, (2, 17, 33)),
                           (unbatched, [17, 33])):
        assert ours(x, output_size=output_size).shape == theirs(x, output_size=output_size).shape


def test_max_pool_repr_shows_return_indices():
    assert "return_indices=True" in repr(equiconv.EquiMaxPool2d(2, return_indices=True))
    assert "return_indices" not in repr(equiconv.EquiMaxPool2d(2))


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


def test_conv_transpose_takes_padding_mode_zeros_as_torch():
    up = equiconv.EquiConvTranspose2d(4, 2, 3, padding_mode="zeros")
    assert up.padding_mode == "zeros"
    assert equiconv.EquiConv2d(4, 2, 3, padding_mode="zeros").padding_mode == "zeros"
    with pytest.raises(ValueError, match="padding_mode"):
        equiconv.EquiConvTranspose2d(4, 2, 3, padding_mode="circular")
    with pytest.raises(ValueError, match="padding mode"):
        torch.nn.ConvTranspose2d(4, 2, 3, padding_mode="circular")
    with pytest.raises(ValueError, match="padding_mode"):
        equiconv.EquiConv2d(4, 2, 3, padding_mode="reflect")


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_max_pool_indices_are_what_max_unpool_needs(backend):
    """return_indices gives the flat index of the input pixel nearest the winning tap, as
    nn.MaxPool2d does: at the equator a 2x2 window's taps sit on its four pixels, so unpooling
    there gives nn.MaxPool2d's result; everywhere, each unpooled maximum lands on a pixel next to
    its tap, and the indices are positions of the input (they were tap numbers 0..3 before)."""
    x = torch.randn(1, 2, 64, 128, dtype=F64)
    out, indices = equiconv.EquiMaxPool2d(2, return_indices=True, backend=backend)(x)
    theirs_out, theirs_indices = torch.nn.MaxPool2d(2, return_indices=True)(x)
    assert torch.equal(indices[..., 15:17, :], theirs_indices[..., 15:17, :])  # input rows 30..33
    unpool = torch.nn.MaxUnpool2d(2)
    ours_back, theirs_back = unpool(out, indices, output_size=x.shape[-2:]), unpool(theirs_out, theirs_indices)
    assert torch.equal(ours_back[..., 30:34, :] != 0, theirs_back[..., 30:34, :] != 0)
    torch.testing.assert_close(ours_back[..., 30:34, :], theirs_back[..., 30:34, :], rtol=0, atol=1e-2)
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


def test_convert_warns_about_the_upsamplers_it_leaves_and_converts_the_rest():
    net = torch.nn.Sequential(torch.nn.UpsamplingBilinear2d(scale_factor=2),
                              torch.nn.UpsamplingNearest2d(scale_factor=2), torch.nn.MaxPool2d(2, return_indices=True))
    with pytest.warns(UserWarning, match=r"'0' \(UpsamplingBilinear2d\) has mode='bilinear', align_corners=True"):
        out = equiconv.convert(net)
    assert type(out[0]) is torch.nn.UpsamplingBilinear2d
    assert type(out[1]) is equiconv.EquiUpsample and out[1].mode == "nearest"
    assert type(out[2]) is equiconv.EquiMaxPool2d and out[2].return_indices


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


def test_conv_backward_op_takes_channels_last_input_without_an_input_gradient():
    """The compiled op itself, not through autograd: an unrequested grad_input is an empty
    placeholder and must not be given the input's channels_last layout (it raised 'required rank
    4 tensor to use channels_last format')."""
    x = torch.randn(2, 3, 8, 16, dtype=torch.float64).to(memory_format=CL)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    go = torch.randn(2, 4, 8, 16, dtype=torch.float64)
    geometry = ([1, 1], [1, 1], [1, 1], 1, [90.0, -90.0], 360.0)
    op = torch.ops.equiconv.equi_conv2d_backward
    grad_input, grad_weight, _ = op(go, x, w, *geometry, [False, True, False])
    assert grad_input.numel() == 0
    torch.testing.assert_close(grad_weight, op(go, x.contiguous(), w, *geometry, [False, True, False])[1])
