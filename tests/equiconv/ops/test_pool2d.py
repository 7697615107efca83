"""equi_max_pool2d / equi_avg_pool2d and their modules: windows of tangent-plane taps."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings, strategies as st

import equiconv
from equiconv import EquiAvgPool2d, EquiMaxPool2d, reference
from equiconv.functional import equi_avg_pool2d, equi_max_pool2d
from tests.equiconv.ops.operator_tester import Case, OperatorTester, randn
from tests.equiconv.ops.pool_cases import POLE, image, pool_kwargs
from tests.helpers.strategies import layers

F64 = torch.float64
CL = torch.channels_last
POOLS = {"max": equi_max_pool2d, "avg": equi_avg_pool2d}


class PoolTester(OperatorTester):
    """Random windows (kernel, stride, padding, dilation) over the whole sphere, bands and partial
    panoramas; the two pooling ops differ only in their functions and bad inputs."""
    dtypes = (torch.float32, torch.float64, torch.bfloat16)
    slow_tests = ("test_gradcheck_and_gradgradcheck",)  # float64 second derivatives: long

    def make_case(self, rng, gen):
        kernel, stride, dilation, padding = ([rng.randint(*span) for _ in range(2)]
                                             for span in ((1, 3), (1, 2), (1, 2), (0, 1)))
        least = [max(lo, d * (k - 1) + 1 - 2 * p) for lo, k, d, p in zip((3, 5), kernel, dilation, padding)]
        x = randn(gen, rng.randint(1, 2), rng.randint(1, 3), rng.randint(least[0], 7), rng.randint(least[1], 10))
        return Case((x, kernel, stride, padding, dilation), rng.sphere())

    def library_args(self, args, kwargs):
        return (*args, list(kwargs["lat_range"]), kwargs["lon_span"])


class TestMaxPool2d(PoolTester):
    op = equi_max_pool2d
    reference = reference.equi_max_pool2d
    library_op = torch.ops.equiconv.equi_max_pool2d.default
    gradient_dtypes = (torch.float32, torch.float64)  # rounded to bfloat16, another tap may win
    bad_inputs = [
        (lambda: EquiMaxPool2d(2, ceil_mode=True), ValueError, "ceil_mode"),
        (lambda: equi_max_pool2d(torch.randn(2, 4, 8), 0), ValueError, "kernel_size"),
        (lambda: equi_max_pool2d(torch.ones(1, 1, 4, 8, dtype=torch.long), 2), TypeError, "floating"),
        (lambda: equi_max_pool2d(torch.randn(1, 1, 4, 8), 2, padding="same"), ValueError, "padding"),
    ]


class TestAvgPool2d(PoolTester):
    op = equi_avg_pool2d
    reference = reference.equi_avg_pool2d
    library_op = torch.ops.equiconv.equi_avg_pool2d.default
    bad_inputs = [
        (lambda: EquiAvgPool2d(2, count_include_pad=False), ValueError, "count_include_pad"),
        (lambda: equi_avg_pool2d(torch.randn(4, 8), 2), ValueError, "input must be 4-D"),
        (lambda: equi_avg_pool2d(torch.randn(1, 1, 2, 8), 5), ValueError, "smaller than the dilated kernel"),
    ]


@settings(max_examples=80, deadline=None)
@given(layers(), st.sampled_from(sorted(POOLS)))
@example(POLE, "max")
@example(POLE, "avg")
def test_compiled_equals_reference_forward_and_backward(cfg, kind):
    x = image(cfg)
    results = []
    for backend in ("compiled", "reference"):
        xs = x.clone().requires_grad_()
        y = POOLS[kind](xs, backend=backend, **pool_kwargs(cfg))
        probe = torch.linspace(-1, 1, y.numel(), dtype=F64).view_as(y)
        (y * probe).sum().backward()
        results.append((y, xs.grad))
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    if kind == "max":
        got = equi_max_pool2d(x, return_indices=True, **pool_kwargs(cfg))[1]
        want = equi_max_pool2d(x, return_indices=True, backend="reference", **pool_kwargs(cfg))[1]
        assert torch.equal(got, want)


def equator_patch(height, width, degrees=1e-4):
    return dict(lat_range=(height * degrees / 2, -height * degrees / 2), lon_span=width * degrees)


@pytest.mark.parametrize("kernel,stride,dilation", [(2, 2, 1), (3, 1, 1), (3, 2, 1), (2, 1, 2)])
def test_tiny_equator_patch_equals_torch_pooling(kernel, stride, dilation):
    x = torch.randn(2, 3, 9, 12, dtype=F64)
    patch = equator_patch(9, 12)
    torch.testing.assert_close(equi_max_pool2d(x, kernel, stride, 0, dilation, **patch),
                               F.max_pool2d(x, kernel, stride, 0, dilation), rtol=1e-7, atol=1e-7)
    if dilation == 1:
        torch.testing.assert_close(equi_avg_pool2d(x, kernel, stride, 0, **patch), F.avg_pool2d(x, kernel, stride),
                                   rtol=1e-7, atol=1e-7)


def test_two_by_two_windows_at_the_equator_read_max_pool2d_pixels():
    """On a full panorama the 2x2 stride-2 windows of the equator rows read the same four pixels as
    nn.MaxPool2d(2) (their centre sits between them), to the tangent plane's tiny bend."""
    x = torch.randn(1, 2, 64, 128, dtype=F64)
    out, winners = equi_max_pool2d(x, 2, return_indices=True)
    _, flat = F.max_pool2d(x, 2, return_indices=True)
    # output rows 15 and 16 (input rows 30..33, next to the equator): the winner is the same pixel
    assert torch.equal(winners[..., 15:17, :], flat[..., 15:17, :])


@given(st.sampled_from(sorted(POOLS)), st.integers(1, 3), st.integers(-4, 4), st.booleans())
def test_rolling_longitude_rolls_the_output(kind, stride, m, full_sphere):
    x = torch.randn(1, 2, 6, 6 * stride, dtype=F64)
    sphere = {} if full_sphere else dict(lat_range=(70.0, -20.0))
    out = POOLS[kind](x, 3, stride, 1, **sphere)
    rolled = POOLS[kind](x.roll(m * stride, -1), 3, stride, 1, **sphere)
    torch.testing.assert_close(rolled, out.roll(m, -1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(POOLS))
@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, 1), (2, 2, 0), (3, 2, 1)])
def test_top_and_bottom_mirror_each_other(kind, kernel, stride, padding):
    height = next(h for h in range(7, 7 + stride) if (h + 2 * padding - kernel) % stride == 0)  # a symmetric grid
    x = torch.randn(1, 2, height, 10, dtype=F64)
    out = POOLS[kind](x, kernel, stride, padding)
    torch.testing.assert_close(POOLS[kind](x.flip(-2), kernel, stride, padding), out.flip(-2), rtol=1e-12, atol=1e-12)


def test_max_gradient_goes_through_the_winning_taps_corners_only():
    x = torch.randn(1, 1, 8, 16, dtype=F64, requires_grad=True)
    out, winners = equi_max_pool2d(x, 3, 2, 1, return_indices=True)
    out.sum().backward()
    # every output hands on exactly 1 (its winner's bilinear weights sum to 1; nothing is outside a sphere)
    torch.testing.assert_close(x.grad.sum(), torch.tensor(float(out.numel()), dtype=F64))
    # and only where its winning tap reads: the sampling of that tap alone, via the reference's taps
    grads = torch.zeros_like(x)
    for r in range(out.shape[-2]):
        for q in range(out.shape[-1]):
            one = torch.zeros_like(out)
            one[..., r, q] = 1
            (g,) = torch.autograd.grad(equi_max_pool2d(x, 3, 2, 1, backend="reference"), x, one)
            grads += g
    torch.testing.assert_close(x.grad, grads, rtol=1e-12, atol=1e-12)
    again = x.detach().clone().requires_grad_()
    equi_max_pool2d(again, 3, 2, 1).sum().backward()
    assert torch.equal(again.grad, x.grad)  # deterministic


def test_ties_go_to_the_first_tap_and_nan_propagates():
    x = torch.zeros(1, 1, 4, 8, dtype=F64)
    _, winners = torch.ops.equiconv.equi_max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], [90.0, -90.0], 360.0)
    assert (winners == 0).all()
    x[0, 0, 1, 1] = float("nan")
    out = equi_max_pool2d(x, 2)
    assert out[0, 0, 0, 0].isnan()
    # exactly the windows whose bilinear reads take the pixel in, as in the reference
    assert torch.equal(out.isnan(), equi_max_pool2d(x, 2, backend="reference").isnan())
    assert out.isnan().sum() < out.numel()


@pytest.mark.slow  # float64 gradgradcheck of average pooling
@pytest.mark.parametrize("kind", sorted(POOLS))
def test_gradcheck_float64(kind):
    x = torch.randn(1, 2, 6, 8, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: POOLS[kind](t, 3, 2, 1, lat_range=(60.0, -40.0), lon_span=300.0), (x,))
    if kind == "avg":
        assert torch.autograd.gradgradcheck(lambda t: POOLS[kind](t, 3, 2, 1), (x,))


@pytest.mark.parametrize("op,extra", [("equi_max_pool2d", ()), ("equi_avg_pool2d", ())])
def test_opcheck(op, extra):
    x = torch.randn(2, 3, 8, 16, dtype=F64, requires_grad=True)
    torch.library.opcheck(getattr(torch.ops.equiconv, op).default,
                          (x, [3, 3], [2, 2], [1, 1], [1, 1], [90.0, -90.0], 360.0))


def test_float32_bfloat16_channels_last_and_unbatched():
    x = torch.randn(2, 3, 8, 16)
    want = equi_max_pool2d(x.double(), 3, 2, 1)
    torch.testing.assert_close(equi_max_pool2d(x, 3, 2, 1), want.float(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(equi_avg_pool2d(x.bfloat16(), 2).float(), equi_avg_pool2d(x, 2), rtol=2e-2, atol=2e-2)
    cl = equi_avg_pool2d(x.contiguous(memory_format=torch.channels_last), 2)
    assert cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(cl, equi_avg_pool2d(x, 2))
    assert equi_max_pool2d(x[0], 2).shape == (3, 4, 8)
    assert equi_avg_pool2d(x[:0], 2).shape == (0, 3, 4, 8)


def test_modules_are_drop_in_pooling_layers():
    for ours, theirs in ((EquiMaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
                         (EquiAvgPool2d(2), torch.nn.AvgPool2d(2))):
        x = torch.randn(1, 2, 16, 32)
        assert ours(x).shape == theirs(x).shape
        assert repr(ours).startswith(type(ours).__name__ + "(kernel_size=")
    out, winners = EquiMaxPool2d(2, return_indices=True)(torch.randn(1, 1, 4, 8))
    assert winners.dtype == torch.long and 0 <= winners.min() and winners.max() < 4 * 8  # input positions
    halved = EquiAvgPool2d(2, divisor_override=2)(torch.ones(1, 1, 4, 8))
    torch.testing.assert_close(halved, torch.full((1, 1, 2, 4), 2.0))


class FamilyNet(torch.nn.Module):
    """Down and up again through the compiled operators: what a U-Net level does."""

    def __init__(self):
        super().__init__()
        self.conv = equiconv.EquiConv2d(3, 4, 3, padding=1)
        self.pool = EquiMaxPool2d(2)
        self.avg = EquiAvgPool2d(3, 1, 1)
        self.up = equiconv.EquiConvTranspose2d(4, 2, 2, stride=2)

    def forward(self, x):
        return self.up(self.avg(self.pool(torch.relu(self.conv(x)))))


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_the_family_compiles_without_graph_breaks(backend):
    torch.manual_seed(1)
    net = FamilyNet()
    x = torch.randn(2, 3, 16, 32)
    compiled = torch.compile(net, fullgraph=True, backend=backend)
    y = compiled(x)
    torch.testing.assert_close(y, net(x))
    y.square().sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    net(x).square().sum().backward()
    for got, p in zip(grads, net.parameters()):
        torch.testing.assert_close(got, p.grad)


def test_the_family_exports_as_custom_ops():
    net = FamilyNet().eval()
    x = torch.randn(1, 3, 16, 32)
    exported = torch.export.export(net, (x,))
    targets = {str(node.target) for node in exported.graph.nodes if node.op == "call_function"}
    assert {"equiconv.equi_max_pool2d.default", "equiconv.equi_avg_pool2d.default",
            "equiconv.equi_conv_transpose2d.default"} <= targets
    torch.testing.assert_close(exported.module()(x), net(x))


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
