"""torch.onnx.export of every equiconv operator and module, run in onnxruntime: its output
equals PyTorch's (the compiled backend) within 1e-4 in float32, for a batch size other than the
export's (the batch is dynamic; height and width are fixed at export), on full and partial
panoramas, with stride, dilation and groups; the reference U-Net and PSPNet built with
conv="equi" likewise. Both exporters: the default (dynamo) one and the legacy one."""
import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import equiconv
from equiconv import EquiAdaptiveAvgPool2d, EquiAvgPool2d, EquiConv2d, EquiConvTranspose2d, EquiMaxPool2d
from equiconv import EquiUpsample, SpherePad2d

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[onnx]')")
pytest.importorskip("onnxscript", reason="onnxscript (torch.onnx's dynamo exporter) is not installed")

TOLERANCE = 1e-4
EXPORT_BATCH, OTHER_BATCH = 2, 3

CASES = {
    "conv": (lambda: EquiConv2d(3, 5, 3, padding=1), (3, 16, 32)),
    "conv_stride_dilation_groups": (lambda: EquiConv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2,
                                                       bias=False), (4, 16, 32)),
    "conv_partial": (lambda: EquiConv2d(3, 4, (3, 5), padding="same", lat_range=(60, -30), lon_span=120),
                     (3, 12, 20)),
    "conv_band_stride": (lambda: EquiConv2d(3, 4, 3, stride=2, padding=1, lat_range=(90, 0)), (3, 8, 32)),
    "conv_transpose": (lambda: EquiConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                       (4, 8, 16)),
    "conv_transpose_partial": (lambda: EquiConvTranspose2d(3, 2, 2, stride=2, lat_range=(45, -45), lon_span=180),
                               (3, 8, 16)),
    "conv_transpose_dilation": (lambda: EquiConvTranspose2d(2, 3, 3, dilation=2, padding=2), (2, 8, 16)),
    "max_pool": (lambda: EquiMaxPool2d(2), (3, 16, 32)),
    "max_pool_indices_partial": (lambda: EquiMaxPool2d(3, 2, 1, return_indices=True, lat_range=(80, -10),
                                                       lon_span=200), (2, 16, 24)),
    "avg_pool": (lambda: EquiAvgPool2d(3, stride=2, padding=2, dilation=2), (3, 16, 32)),
    "adaptive_avg_pool_partial": (lambda: EquiAdaptiveAvgPool2d((3, 5), lat_range=(70, -20)), (3, 16, 32)),
    "pad": (lambda: SpherePad2d((1, 2, 3, 1)), (3, 8, 16)),
    "pad_partial": (lambda: SpherePad2d(2, lat_range=(60, 0), lon_span=90), (3, 8, 16)),
    "upsample_bilinear": (lambda: EquiUpsample(scale_factor=2, mode="bilinear"), (3, 8, 16)),
    "upsample_bilinear_partial": (lambda: EquiUpsample(size=(12, 20), mode="bilinear", lat_range=(30, -30),
                                                       lon_span=90), (3, 8, 16)),
    "upsample_nearest": (lambda: EquiUpsample(scale_factor=2), (3, 8, 16)),
}


def _outputs(result):
    return [t.detach() for t in result] if isinstance(result, (tuple, list)) else [result.detach()]


def export(model, example, path, dynamo=True):
    """Exports with a dynamic batch: the exporter's only argument beyond the defaults."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation, onnxscript's notes
        if dynamo:
            torch.onnx.export(model, (example,), path, dynamic_shapes=({0: torch.export.Dim("batch")},))
        else:
            torch.onnx.export(model, (example,), path, dynamo=False, input_names=["input"],
                              dynamic_axes={"input": {0: "batch"}})


def assert_runs_as_in_torch(model, shape, path, dynamo=True):
    """Exported at one batch size, onnxruntime matches PyTorch at another one and at that one,
    and the graph holds standard ONNX operators only."""
    torch.manual_seed(0)
    model.eval()
    export(model, torch.randn(EXPORT_BATCH, *shape), path, dynamo)
    domains = {node.domain for node in onnx.load(str(path)).graph.node}
    assert domains <= {"", "ai.onnx"}, f"non-standard operators in the exported graph: {domains}"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (OTHER_BATCH, EXPORT_BATCH):
        x = torch.randn(batch, *shape)
        with torch.no_grad():
            expected = _outputs(model(x))
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        assert len(got) == len(expected)
        for want, have in zip(expected, got):
            have = torch.from_numpy(have)
            assert have.shape == want.shape
            if want.is_floating_point():
                torch.testing.assert_close(have, want, atol=TOLERANCE, rtol=TOLERANCE)
            else:  # max pooling's indices
                assert torch.equal(have, want)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_module_runs_in_onnxruntime(name, tmp_path):
    make, shape = CASES[name]
    assert_runs_as_in_torch(make(), shape, tmp_path / f"{name}.onnx")


def test_the_legacy_exporter_runs_the_compiled_ops(tmp_path):
    """dynamo=False: the functional forms hand its tracer the same decompositions."""
    model = torch.nn.Sequential(EquiConv2d(3, 4, 3, padding=1, lat_range=(80, -60)), EquiMaxPool2d(2),
                                EquiAvgPool2d(3, 1, 1), EquiConvTranspose2d(4, 2, 2, 2), EquiUpsample(scale_factor=0.5,
                                                                                                    mode="bilinear"))
    assert_runs_as_in_torch(model, (3, 16, 32), tmp_path / "legacy.onnx", dynamo=False)


def test_export_without_arguments_fixes_the_batch(tmp_path):
    """``torch.onnx.export(model, (x,), path)`` as it stands: no argument for equiconv."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(EquiConv2d(3, 4, 3, stride=2, padding=1), EquiMaxPool2d(2)).eval()
    x = torch.randn(1, 3, 16, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), tmp_path / "plain.onnx")
    session = ort.InferenceSession(str(tmp_path / "plain.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), model(x), atol=TOLERANCE, rtol=TOLERANCE)


def test_layers_of_one_geometry_share_their_tables(tmp_path):
    """The index tables are constants of the graph, as large as the taps' corners: two layers of
    one geometry (a U-Net's double convolution) store them once."""
    def index_tables(model):
        export(model.eval(), torch.randn(2, 4, 8, 16), tmp_path / "m.onnx")
        graph = onnx.load(str(tmp_path / "m.onnx")).graph
        integers = (onnx.TensorProto.INT32, onnx.TensorProto.INT64)
        return sum(t.data_type in integers and math.prod(t.dims) > 16 for t in graph.initializer)

    one = index_tables(torch.nn.Sequential(EquiConv2d(4, 4, 3, padding=1)))
    assert one >= 1
    assert index_tables(torch.nn.Sequential(EquiConv2d(4, 4, 3, padding=1), torch.nn.ReLU(),
                                               EquiConv2d(4, 4, 3, padding=1))) == one


def test_every_forward_op_has_its_decomposition():
    """The compiled core's ops and the Triton backend's (what CUDA runs by default) alike."""
    ops = [torch.ops.equiconv.equi_conv2d, torch.ops.equiconv.equi_conv_transpose2d,
           torch.ops.equiconv.equi_max_pool2d, torch.ops.equiconv.equi_avg_pool2d,
           torch.ops.equiconv_triton.conv2d, torch.ops.equiconv_triton.max_pool2d,
           torch.ops.equiconv_triton.avg_pool2d]
    assert all(op._qualified_op_name in equiconv.onnx.DECOMPOSITIONS for op in ops)


def test_outside_onnx_export_the_compiled_op_stays():
    """The decompositions are for ONNX only: torch.export keeps the compiled op (and its speed)."""
    assert not equiconv.onnx.exporting()
    program = torch.export.export(EquiConv2d(3, 4, 3, padding=1), (torch.randn(1, 3, 8, 16),))
    targets = {node.target for node in program.graph.nodes}
    assert torch.ops.equiconv.equi_conv2d.default in targets


@pytest.mark.parametrize("network", ["unet", pytest.param("pspnet", marks=pytest.mark.slow)])  # pspnet: ~15 s
def test_reference_networks_with_equi_convolutions(network, tmp_path):
    from panosis_models.models.pspnet import PSPNet
    from panosis_models.models.unet import UNet

    torch.manual_seed(0)
    model, shape = {
        "unet": lambda: (UNet(3, 5, channels=(8, 16, 32), conv="equi"), (3, 32, 64)),
        "pspnet": lambda: (PSPNet(3, 5, conv="equi", width=8, depth=(1, 1, 1, 1)), (3, 48, 96)),
    }[network]()
    assert_runs_as_in_torch(model, shape, tmp_path / f"{network}.onnx")


# The decompositions themselves, without an export (fast, so hypothesis draws many geometries):
# each equals its compiled op on random layers, full and partial panoramas.
SPHERES = st.sampled_from([((90.0, -90.0), 360.0), ((90.0, 0.0), 360.0), ((60.0, -30.0), 120.0),
                           ((45.0, -80.0), 359.0)])


@st.composite
def layers(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = (draw(st.integers(0, kernel[0])), draw(st.integers(0, kernel[1])))
    groups = draw(st.sampled_from([1, 2]))
    height, width = draw(st.integers(6, 14)), draw(st.integers(8, 24))
    lat_range, lon_span = draw(SPHERES)
    return kernel, stride, padding, dilation, groups, height, width, lat_range, lon_span


def _geometry_args(stride, padding, dilation, lat_range):
    return [stride] * 2, list(padding), [dilation] * 2, list(lat_range)


@given(layers())
@settings(max_examples=30)
def test_conv_decompositions_equal_the_compiled_ops(layer):
    kernel, stride, padding, dilation, groups, height, width, lat_range, lon_span = layer
    s, p, d, lat = _geometry_args(stride, padding, dilation, lat_range)
    x = torch.randn(2, 2 * groups, height, width)
    w, b = torch.randn(3 * groups, 2, *kernel), torch.randn(3 * groups)
    try:
        expected = torch.ops.equiconv.equi_conv2d(x, w, b, s, p, d, groups, lat, lon_span)
    except (RuntimeError, ValueError):
        return  # a geometry the op refuses (a kernel larger than the padded input)
    got = equiconv.onnx.equi_conv2d(x, w, b, s, p, d, groups, lat, lon_span)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    wt = torch.randn(2 * groups, 3, *kernel)
    op = [min(stride, dilation) - 1] * 2  # the largest output_padding allowed is below max(stride, dilation)
    try:
        expected = torch.ops.equiconv.equi_conv_transpose2d(x, wt, b, s, p, op, d, groups, lat, lon_span)
    except (RuntimeError, ValueError):
        return
    got = equiconv.onnx.equi_conv_transpose2d(x, wt, b, s, p, op, d, groups, lat, lon_span)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@given(layers())
@settings(max_examples=30)
def test_pooling_decompositions_equal_the_compiled_ops(layer):
    kernel, stride, padding, dilation, _, height, width, lat_range, lon_span = layer
    s, _, d, lat = _geometry_args(stride, padding, dilation, lat_range)
    k, p = list(kernel), [min(q, n // 2) for q, n in zip(padding, kernel)]
    x = torch.randn(2, 3, height, width)
    try:
        expected = torch.ops.equiconv.equi_max_pool2d(x, k, s, p, d, lat, lon_span)
    except (RuntimeError, ValueError):
        return
    got = equiconv.onnx.equi_max_pool2d(x, k, s, p, d, lat, lon_span)
    torch.testing.assert_close(got[0], expected[0], atol=1e-6, rtol=1e-6)
    assert torch.equal(got[1], expected[1])
    torch.testing.assert_close(equiconv.onnx.equi_avg_pool2d(x, k, s, p, d, lat, lon_span),
                               torch.ops.equiconv.equi_avg_pool2d(x, k, s, p, d, lat, lon_span), atol=1e-6, rtol=1e-6)
