"""equi_conv_transpose2d / EquiConvTranspose2d: the adjoint of EquiConv2d, as nn.ConvTranspose2d."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, example, given, settings, strategies as st

import equiconv
from equiconv import EquiConvTranspose2d, reference
from equiconv.functional import equi_conv2d, equi_conv_transpose2d
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.helpers.strategies import spheres

F64 = torch.float64


class TestConvTranspose2d(OperatorTester):
    """equi_conv_transpose2d against equiconv.reference over random transposed layers (the
    constraints of transposed_layers below: a fine grid that holds the dilated kernel, pixels
    under 90 degrees)."""
    op = equi_conv_transpose2d
    reference = reference.equi_conv_transpose2d
    library_op = torch.ops.equiconv.equi_conv_transpose2d.default
    dtypes = (torch.float32, torch.float64, torch.bfloat16)
    slow_tests = ("test_gradcheck_and_gradgradcheck",)  # float64 second derivatives: long
    bad_inputs = [
        (lambda: equi_conv_transpose2d(torch.randn(1, 3, 4, 8), torch.randn(2, 2, 3, 3)), ValueError, "channels"),
        (lambda: equi_conv_transpose2d(torch.randn(1, 2, 4, 8), torch.randn(2, 2, 3, 3), stride=2, output_padding=2),
         ValueError, "output_padding"),
        (lambda: equi_conv_transpose2d(torch.randn(1, 2, 4, 8), torch.randn(2, 2, 3, 3), padding="same"),
         ValueError, "padding"),
        (lambda: equi_conv_transpose2d(torch.randn(1, 2, 4, 8), torch.randn(2, 2, 3, 3, dtype=F64)), TypeError,
         "weight dtype"),
        (lambda: equi_conv_transpose2d(torch.randn(1, 2, 1, 1), torch.randn(2, 2, 3, 3), padding=2), ValueError,
         "empty"),
        (lambda: EquiConvTranspose2d(3, 4, 3, groups=2), ValueError, "in_channels"),
    ]

    def make_case(self, rng, gen):
        while True:  # draw until the layer is valid, as transposed_layers' assume() does
            kernel, stride, dilation, padding = ([rng.randint(*span) for _ in range(2)]
                                                 for span in ((1, 3), (1, 2), (1, 2), (0, 1)))
            output_padding = [rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation)]
            size, sphere = (rng.randint(2, 6), rng.randint(3, 8)), rng.sphere()
            fine = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1
                    for n, k, s, p, d, o in zip(size, kernel, stride, padding, dilation, output_padding)]
            extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
            (top, bottom), lon = sphere["lat_range"], sphere["lon_span"]
            if (min(fine) >= 1 and all(f + 2 * p >= e for f, p, e in zip(fine, padding, extent))
                    and (top - bottom) / fine[0] < 90 and lon / fine[1] < 90):
                break
        groups = rng.choice([1, 2])
        x = randn(gen, rng.randint(1, 2), groups * rng.randint(1, 2), *size)
        out_channels = groups * rng.randint(1, 2)
        weight = randn(gen, x.shape[1], out_channels // groups, *kernel)
        bias = randn(gen, out_channels) if rng.random() < 0.7 else None
        return Case((x, weight, bias), dict(stride=stride, padding=padding, output_padding=output_padding,
                                            groups=groups, dilation=dilation, **sphere))

    def library_args(self, args, kwargs):
        k = kwargs
        return (*args, k["stride"], k["padding"], k["output_padding"], k["dilation"], k["groups"],
                list(k["lat_range"]), k["lon_span"])


@st.composite
def transposed_layers(draw):
    """A valid transposed convolution: sizes, geometry and an output_padding below max(stride, dilation)."""
    groups = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    lat_range, lon_span = draw(spheres())
    height, width = draw(st.integers(2, 7)), draw(st.integers(3, 9))
    fine = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1
            for n, k, s, p, d, o in zip((height, width), kernel, stride, padding, dilation, output_padding)]
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    # the fine grid must hold the dilated kernel and pixels under 90 degrees (the geometry's rules)
    assume(min(fine) >= 1 and fine[0] + 2 * padding[0] >= extent[0] and fine[1] + 2 * padding[1] >= extent[1])
    assume((lat_range[0] - lat_range[1]) / fine[0] < 90 and lon_span / fine[1] < 90)
    return dict(batch=draw(st.integers(1, 2)), in_channels=groups * draw(st.integers(1, 2)),
                out_channels=groups * draw(st.integers(1, 2)), groups=groups, kernel_size=kernel, stride=stride,
                padding=padding, output_padding=output_padding, dilation=dilation, height=height, width=width,
                lat_range=lat_range, lon_span=lon_span)


def tensors(cfg, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(cfg["batch"], cfg["in_channels"], cfg["height"], cfg["width"], generator=g, dtype=F64)
    w = torch.randn(cfg["in_channels"], cfg["out_channels"] // cfg["groups"], *cfg["kernel_size"], generator=g,
                    dtype=F64)
    b = torch.randn(cfg["out_channels"], generator=g, dtype=F64)
    return x, w, b


def kwargs(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=cfg["output_padding"],
                groups=cfg["groups"], dilation=cfg["dilation"], lat_range=cfg["lat_range"], lon_span=cfg["lon_span"])


def conv_kwargs(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"],
                lat_range=cfg["lat_range"], lon_span=cfg["lon_span"])


FULL_POLE = dict(batch=1, in_channels=2, out_channels=2, groups=1, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1),
                 output_padding=(1, 1), dilation=(1, 1), height=4, width=8, lat_range=(90.0, -90.0), lon_span=360.0)


@settings(max_examples=60, deadline=None)
@given(transposed_layers())
@example(FULL_POLE)
@example({**FULL_POLE, "stride": (1, 1), "dilation": (2, 2), "output_padding": (1, 1)})  # crop: op >= stride
def test_compiled_equals_reference_forward_and_backward(cfg):
    x, w, b = tensors(cfg)
    results = []
    for backend in ("compiled", "reference"):
        xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
        y = equi_conv_transpose2d(xs, ws, bs, backend=backend, **kwargs(cfg))
        probe = torch.linspace(-1, 1, y.numel(), dtype=F64).view_as(y)
        (y * probe).sum().backward()
        results.append((y, xs.grad, ws.grad, bs.grad))
    assert results[0][0].shape == F.conv_transpose2d(x, w, b, cfg["stride"], cfg["padding"], cfg["output_padding"],
                                                     cfg["groups"], cfg["dilation"]).shape
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(transposed_layers(), st.integers(0, 2**16))
@example(FULL_POLE, 0)
def test_adjoint_identity(cfg, seed):
    """<equi_conv2d(y, w), x> = <y, equi_conv_transpose2d(x, w)> for every y on the fine grid."""
    x, w, _ = tensors(cfg, seed)
    z = equi_conv_transpose2d(x, w, **kwargs(cfg))
    y = torch.randn(z.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=F64)
    conv = equi_conv2d(y, w, **conv_kwargs(cfg))[..., :x.shape[-2], :x.shape[-1]]
    lhs, rhs = (conv * x).sum(), (y * z).sum()
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


@pytest.mark.parametrize("stride,padding,output_padding,dilation", [(2, 0, 0, 1), (2, 1, 1, 1), (1, 1, 0, 2),
                                                                    (3, 2, 2, 1)])
def test_tiny_equator_patch_equals_conv_transpose2d(stride, padding, output_padding, dilation):
    x = torch.randn(2, 3, 6, 7, dtype=F64)
    w = torch.randn(3, 4, 3, 3, dtype=F64)
    want = F.conv_transpose2d(x, w, None, stride, padding, output_padding, 1, dilation)
    h, width = want.shape[-2:]
    degrees = 1e-4  # per pixel: the tangent plane is the image plane to ~1e-12
    got = equi_conv_transpose2d(x, w, None, stride, padding, output_padding, 1, dilation,
                                lat_range=(h * degrees / 2, -h * degrees / 2), lon_span=width * degrees)
    torch.testing.assert_close(got, want, rtol=1e-7, atol=1e-7)


@given(st.integers(1, 3), st.integers(-3, 3), st.booleans())
def test_rolling_longitude_rolls_the_output(stride, m, full_sphere):
    x = torch.randn(1, 2, 6, 8, dtype=F64)
    w = torch.randn(2, 3, 3, 3, dtype=F64)
    sphere = {} if full_sphere else dict(lat_range=(60.0, -30.0))
    out = equi_conv_transpose2d(x, w, stride=stride, padding=1, output_padding=stride - 1, **sphere)
    rolled = equi_conv_transpose2d(x.roll(m, -1), w, stride=stride, padding=1, output_padding=stride - 1, **sphere)
    torch.testing.assert_close(rolled, out.roll(m * stride, -1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("stride,padding,kernel", [(1, 1, 3), (2, 1, 3), (2, 0, 2)])
def test_top_and_bottom_mirror_each_other(stride, padding, kernel):
    x = torch.randn(1, 2, 5, 8, dtype=F64)
    w = torch.randn(2, 2, kernel, kernel, dtype=F64)
    out = equi_conv_transpose2d(x, w, stride=stride, padding=padding)
    mirrored = equi_conv_transpose2d(x.flip(-2), w.flip(-2), stride=stride, padding=padding)
    torch.testing.assert_close(mirrored, out.flip(-2), rtol=1e-10, atol=1e-10)


@pytest.mark.slow  # float64 gradgradcheck of the transposed convolution
def test_gradcheck_and_gradgradcheck_float64():
    x = torch.randn(1, 2, 3, 5, dtype=F64, requires_grad=True)
    w = torch.randn(2, 2, 3, 3, dtype=F64, requires_grad=True)
    b = torch.randn(2, dtype=F64, requires_grad=True)

    def fn(x, w, b):
        return equi_conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)

    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))


def test_opcheck():
    x = torch.randn(2, 4, 4, 8, dtype=F64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=F64, requires_grad=True)
    b = torch.randn(6, dtype=F64, requires_grad=True)
    torch.library.opcheck(torch.ops.equiconv.equi_conv_transpose2d.default,
                          (x, w, b, [2, 2], [1, 1], [1, 1], [1, 1], 2, [90.0, -90.0], 360.0))


def test_module_is_a_drop_in_conv_transpose2d():
    torch.manual_seed(0)
    ours = EquiConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours.bias, theirs.bias)  # same init
    assert repr(ours).split("(", 1)[1] == repr(theirs).split("(", 1)[1]
    theirs.load_state_dict(ours.state_dict())
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 8, 16)  # unbatched
    assert ours(x).shape == theirs(x).shape == (6, 16, 32)
    assert ours(x, output_size=(15, 31)).shape == theirs(x, output_size=(15, 31)).shape
    with pytest.raises(ValueError, match="output_size"):
        ours(x, output_size=(20, 32))
    shared = EquiConvTranspose2d.from_conv_transpose2d(theirs)
    assert shared.weight is theirs.weight and shared.bias is theirs.bias


def test_unet_style_upsampling_keeps_the_seam():
    """A 2x2 stride-2 transposed convolution at the equator reads what nn.ConvTranspose2d reads, and on a
    full panorama its output has no seam: a roll by one coarse column is a roll by two fine ones."""
    up = EquiConvTranspose2d(3, 2, 2, stride=2).double()
    x = torch.randn(1, 3, 8, 16, dtype=F64)
    torch.testing.assert_close(up(x.roll(1, -1)), up(x).roll(2, -1), rtol=1e-10, atol=1e-10)
    assert equiconv.convert(torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 2, 2, stride=2)))[0].__class__ \
        is EquiConvTranspose2d


def test_cpu_autocast_runs_in_bfloat16_after_an_equiconv():
    """Under autocast an EquiConv2d hands on bfloat16; the transposed convolution casts its float32
    weight to it, as nn.ConvTranspose2d does, instead of refusing the mixed dtypes."""
    torch.manual_seed(3)
    down, up = equiconv.EquiConv2d(3, 4, 3, stride=2, padding=1), EquiConvTranspose2d(4, 2, 2, stride=2)
    x = torch.randn(1, 3, 16, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = up(down(x))
    assert y.dtype == torch.bfloat16
    torch.testing.assert_close(y.float(), up(down(x)), rtol=5e-2, atol=5e-2)
    y.float().sum().backward()
    assert up.weight.grad.dtype == torch.float32


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
