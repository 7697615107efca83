"""The benchmark suite: `python -m benchmarks --quick` end to end (schema and sanity of what it
writes, never timings), the report and the plot, and the pure pieces (case sets, geometry sizes,
the deformable-convolution offsets and the region where they must agree with EquiConv)."""
import csv
import json
import math
import os

import pytest
import torch
import torch.nn.functional as F

import equiconv
from benchmarks import __main__ as cli
from benchmarks import cases, checks, memory, plot, report, results
from benchmarks.candidates import batch_offsets, deform_conv2d
from benchmarks.cases import Case, UNetCase

MODES = {"layers": ("forward", "forward_backward"), "kernels": ("forward", "forward_backward"),
         "operators": ("forward", "forward_backward"),
         "stride": ("forward", "forward_backward"), "unet": ("train_step",)}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One run of the --quick path, with a single timed round to keep the test short."""
    out = tmp_path_factory.mktemp("bench")
    content = cli.main(["--quick", "--device", "cpu", "--out", str(out), "--warmups", "0", "--repeats", "1"])
    return out, content


@pytest.mark.slow  # runs python -m benchmarks --quick
def test_quick_writes_json_csv_and_png(quick_run):
    out, content = quick_run
    names = sorted(p.name for p in out.iterdir())
    when = content["date"][:19].replace("-", "").replace(":", "").replace("T", "-")  # yyyymmdd-hhmmss
    stem = f"cpu-float32-quick-{when}-{content['commit']}"  # same-day runs no longer overwrite each other
    assert names == [f"{stem}.csv", f"{stem}.json", f"{stem}.png"]
    assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((out / f"{stem}.json").read_text())
    assert on_disk == {k: v for k, v in content.items() if k != "files"}


@pytest.mark.slow  # uses the quick benchmark run
def test_quick_file_records_its_provenance(quick_run):
    _, content = quick_run
    for key, kind in (("device", str), ("device_type", str), ("torch", str), ("threads", int), ("commit", str),
                      ("date", str), ("method", str), ("memory_method", str), ("baseline", str)):
        assert isinstance(content[key], kind) and content[key], key
    assert content["schema"] == results.SCHEMA and content["quick"] is True and content["dtype"] == "float32"
    assert content["cuda"] == torch.version.cuda
    assert content["suites"] == list(cases.SUITES)  # the quick set touches every suite
    assert [r["name"] for r in content["results"]] == [c.name for c in cases.quick()]


def _check_mode(summary, items=None):
    times = {k[:-3]: v for k, v in summary.items() if k.endswith("_ms")}
    assert "conv2d" in times and "equiconv" in times
    assert all(isinstance(t, float) and t > 0 for t in times.values())
    assert set(summary["ratios"]) == set(times) - {"conv2d"}
    for name, ratio in summary["ratios"].items():
        assert ratio == pytest.approx(times[name] / times["conv2d"], rel=2e-3, abs=2e-3)
    assert summary["ratio"] == summary["ratios"]["equiconv"]
    assert set(summary["peak_bytes"]) == set(times)
    for name, peak in summary["peak_bytes"].items():
        assert (isinstance(peak, int) and peak >= 0) or summary["peak_bytes_missing"][name]
    if items:
        for name, rate in summary["images_per_s"].items():
            assert rate == pytest.approx(1e3 * items / times[name], rel=2e-3)


@pytest.mark.slow  # uses the quick benchmark run
def test_quick_rows_are_sane(quick_run):
    _, content = quick_run
    ran_reference = skipped_reference = 0
    for row in content["results"]:
        assert "error" not in row, row["name"]
        for mode in MODES[row["suite"]]:
            _check_mode(row[mode], row["case"]["batch"] if row["suite"] == "unet" else None)
        if row["suite"] == "operators":  # against its torch.nn counterpart, with the reference in budget
            assert "reference_ms" in row["forward"] and row["target"] in (2.0, 3.0)
            continue
        if deform_conv2d() is None and row["suite"] != "unet":
            assert row["skipped"]["deform_conv2d"] == "torchvision is not importable"
        if row["suite"] == "unet":
            continue
        ran_reference += "reference_ms" in row["forward"]
        skipped_reference += "budget" in row["skipped"].get("reference", "")
        geometry = row["geometry_bytes"]
        assert geometry["table"] > 0 and geometry["deform_offsets"] > geometry["table"]
        assert geometry["plan"] is None or geometry["plan"] > 0
    assert ran_reference and skipped_reference


@pytest.mark.slow  # uses the quick benchmark run
def test_the_peer_is_measured_or_says_how_to_get_it(quick_run):
    _, content = quick_run
    for row in content["results"]:
        if row["suite"] in ("layers", "kernels", "stride"):
            assert "torch_harmonics_ms" in row["forward"] or "make bench-peers" in row["skipped"]["torch_harmonics"]
    assert ("torch_harmonics" in content) and (content["torch_harmonics"] is None) == all(
        "torch_harmonics" in row["skipped"] for row in content["results"] if row["suite"] == "layers")


@pytest.mark.parametrize("k, footprint", [(3, 9), (5, 21)])
def test_the_peer_reaches_the_kernels_half_width_and_no_further(k, footprint):
    """DISCO matched to a k x k layer: an output pixel at the equator depends on the inputs within
    k/2 pixels, the k x k square (k = 3) or the square less its corners (k = 5), and no others.
    A wider support than the layer's would make the peer look slower than a user would find it."""
    pytest.importorskip("torch_harmonics")
    from benchmarks import peers
    case = Case(1, 1, 1, 32, 64, k)
    module, why = peers.disco_conv(case, torch.device("cpu"), torch.float64)
    assert module is not None, why
    x = torch.randn(1, 1, 32, 64, dtype=torch.float64, requires_grad=True)
    module(x)[0, 0, 16, 20].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    assert len(rows) == footprint
    assert (rows - 16).abs().max() == k // 2 and (cols - 20).abs().max() == k // 2


@pytest.mark.slow  # uses the quick benchmark run
def test_csv_holds_the_json_figures(quick_run):
    out, content = quick_run
    path = next(out.glob("*.csv"))
    rows = list(csv.DictReader(path.open()))
    assert tuple(rows[0]) == results.CSV_FIELDS
    timed = [r for r in rows if r["median_ms"]]
    expected = sum(len(row[mode]["peak_bytes"]) for row in content["results"] for mode in MODES[row["suite"]])
    assert len(timed) == expected
    first = content["results"][0]["forward"]
    line = next(r for r in timed if r["candidate"] == "equiconv" and r["mode"] == "forward")
    assert float(line["median_ms"]) == first["equiconv_ms"] and float(line["ratio_to_conv2d"]) == first["ratio"]
    assert all(r["skipped"] for r in rows if not r["median_ms"])


@pytest.mark.slow  # uses the quick benchmark run
def test_report_puts_the_figures_between_the_markers(quick_run, tmp_path):
    out, content = quick_run
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# title\n\nhand-written text\n\n{report.BEGIN}\nold table\n{report.END}\n\nmore text\n")
    report.main([str(next(out.glob("*.json"))), "--page", str(page)])
    text = page.read_text()
    assert text.startswith("# title\n\nhand-written text\n\n" + report.BEGIN)
    assert text.endswith(report.END + "\n\nmore text\n") and "old table" not in text
    assert next(out.glob("*.json")).name in text  # the source of the figures is named
    for row in content["results"]:
        mode = "train_step" if row["suite"] == "unet" else "forward_backward"
        assert f"| {row['name']} |" in text and f"{row[mode]['ratio']:.2f}×" in text
    report.main([str(next(out.glob("*.json"))), "--page", str(page)])
    assert page.read_text() == text  # regenerating is idempotent


@pytest.mark.slow  # uses the quick benchmark run
def test_report_needs_the_markers(quick_run, tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="benchmarks:begin"):
        report.main([str(next(quick_run[0].glob("*.json"))), "--page", str(page)])
    assert page.read_text() == "no markers here\n"


@pytest.mark.slow  # uses the quick benchmark run
def test_plot_command_writes_png_next_to_the_file(quick_run, tmp_path):
    source = next(quick_run[0].glob("*.json"))
    copy = tmp_path / source.name
    copy.write_text(source.read_text())
    (written,) = plot.main([str(copy)])
    assert written == copy.with_suffix(".png") and written.read_bytes()[:4] == b"\x89PNG"


def _report(tmp_path, name, date, suites, quick=False, device_type="cpu"):
    content = {"schema": results.SCHEMA, "label": name, "quick": quick, "suites": suites, "device_type": device_type,
               "dtype": "float32", "date": date, "results": []}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(content))
    return path


def test_latest_file_per_device_dtype_and_suite(tmp_path):
    old_all = _report(tmp_path, "all", "2026-01-01T00:00:00", ["layers", "kernels", "unet"])
    new_layers = _report(tmp_path, "layers", "2026-02-01T00:00:00", ["layers"])
    quick = _report(tmp_path, "quick", "2026-03-01T00:00:00", ["layers", "unet"], quick=True)
    gpu = _report(tmp_path, "gpu", "2025-01-01T00:00:00", ["layers"], device_type="cuda")
    chosen = {r["path"]: suites for r, suites in results.latest([old_all, new_layers, quick, gpu])}
    assert chosen == {str(old_all): ["kernels", "unet"], str(new_layers): ["layers"],
                      str(quick): ["layers", "unet"], str(gpu): ["layers"]}


def test_first_schema_files_still_load(tmp_path):
    path = _first_schema_file(tmp_path)
    loaded = results.load(path)
    assert loaded["suites"] == ["layers"] and loaded["quick"] is False
    assert loaded["results"][0]["name"] == "b4 64->64 k3 s1 128x256"
    text = report.render(results.latest([path]))
    assert "| b4 64->64 k3 s1 128x256 | 1.00 | 2.00× | 3.00 | 1.50× |" in text
    assert "- forward+backward (the U-Net: a training step) at most 1.50× Conv2d's time: 1.50×; 1 of 1 within it." in text
    assert "- forward at most 1.30× Conv2d's time: 2.00×; 0 of 1 within it; missed by b4 64->64 k3 s1 128x256 (2.00×)." in text


def _first_schema_file(folder, name="cpu-float32-128x256-20260101.json"):
    row = {"case": {"batch": 4, "in_channels": 64, "out_channels": 64, "height": 128, "width": 256,
                    "kernel_size": 3, "stride": 1},
           "forward": {"conv2d_ms": 1.0, "equiconv_ms": 2.0, "ratio": 2.0},
           "forward_backward": {"conv2d_ms": 3.0, "equiconv_ms": 4.5, "ratio": 1.5}}
    path = folder / name
    path.write_text(json.dumps({"device": "x", "device_type": "cpu", "dtype": "float32", "torch": "2",
                                "cuda": None, "threads": 2, "commit": "abc", "date": "2026-01-01T00:00:00+00:00",
                                "method": "interleaved medians", "results": [row]}))
    return path


def test_report_adds_the_side_benchmarks_latest_files(tmp_path):
    """The sphere-resampling and ONNX Runtime files are no suite files: the report renders the
    newest of each after the suite's tables instead of failing on them."""
    suite = _first_schema_file(tmp_path)
    common = {"date": "2026-12-03 14:50 UTC", "machine": "x86_64", "threads": 2, "torch": "2"}
    for stamp, ratio in (("20261201-000000", 0.9), ("20261203-145013", 0.39)):
        (tmp_path / f"sphere-resampling-cpu-{stamp}.json").write_text(json.dumps({
            **common, "command": "python -m benchmarks.sphere_resampling ", "device": "cpu",
            "pytorch360convert": "0.2.3", "size": [512, 1024],
            "cases": {"rotate": {"equiconv_ms": 9.29, "pytorch360convert_ms": 23.86, "ratio": ratio}}}))
    onnx = tmp_path / "onnx-runtime-cpu-quick-20261203-145034.json"
    onnx.write_text(json.dumps({
        **common, "command": "python -m benchmarks.onnx_runtime ", "onnxruntime": "1", "method": "medians",
        "cases": [{"name": "b1 conv", "case": {}, "compiled_ms": 1.0, "onnxruntime_ms": 2.0, "nn_onnxruntime_ms": 0.5,
                   "ort_vs_compiled": 2.0, "ort_vs_nn_ort": 4.0, "max_abs_difference": 1e-6},
                  {"name": "b1 pool", "case": {"kind": "max_pool"}, "compiled_ms": 1.0, "onnxruntime_ms": 0.6,
                   "nn_onnxruntime_ms": 0.3, "ort_vs_compiled": 0.6, "ort_vs_nn_ort": 2.0,
                   "max_abs_difference": 1e-7}]}))
    page = tmp_path / "benchmarks.md"
    page.write_text(f"{report.BEGIN}\n{report.END}\n")
    report.main(["--results", str(tmp_path), "--page", str(page)])
    text = page.read_text()
    assert text.index(suite.name) < text.index("sphere-resampling-cpu-20261203-145013.json") < text.index(onnx.name)
    assert "20261201" not in text and "| rotate | 9.29 | 23.9 | 0.39× |" in text
    assert "| b1 conv | 1.00 | 2.00 | 0.5 | 2.00× | 4.00× | 1.0e-06 |" in text
    assert "onnxruntime / compiled op: convolutions 2.00×; pooling 0.60×." in text


def test_report_renders_the_gpu_kernel_sets_file(tmp_path):
    """make gpu-check's kernel-set file: one row per layer and dtype, both sets over cuDNN, a set
    that did not run shown as a dash, and the range per dtype and set."""
    _first_schema_file(tmp_path)
    rows = [{"layer": "b8 32->32 k3 s1 256x512", "dtype": "bfloat16", "cudnn_ms": 1.0, "triton_ms": 3.0,
             "cuda_ms": 9.0, "max_rel_error": 5e-3},
            {"layer": "b8 64->64 k3 s1 128x256", "dtype": "bfloat16", "cudnn_ms": 0.5, "triton_ms": 1.0,
             "cuda_error": "OutOfMemoryError: x"}]
    (tmp_path / "gpu-kernels-cuda-20261204-182221.json").write_text(json.dumps({
        "environment": {"device": "NVIDIA H200", "baseline": "cuDNN 91900", "torch": "2.11", "cuda": "13.0",
                        "commit": "abc", "date": "2026-12-04T18:22:21+00:00"},
        "command": "python -m benchmarks.gpu_kernels --sizes 256x512", "method": "medians of 10 rounds",
        "rows": rows, "memory_4k": None}))
    page = tmp_path / "benchmarks.md"
    page.write_text(f"{report.BEGIN}\n{report.END}\n")
    report.main(["--results", str(tmp_path), "--page", str(page)])
    text = page.read_text()
    assert "NVIDIA H200 (cuDNN 91900), torch 2.11, CUDA 13.0, commit abc, 2026-12-04" in text
    assert "| b8 32->32 k3 s1 256x512 | bfloat16 | 1.00 | 3.00 | 3.00× | 9.00 | 9.00× | 5.0e-03 |" in text
    assert "| b8 64->64 k3 s1 128x256 | bfloat16 | 0.5 | 1.00 | 2.00× | — | — | — |" in text
    assert "bfloat16 Triton 2.00× to 3.00× (2 layers); bfloat16 CUDA C++ 9.00× (1 layer)." in text


def test_report_renders_the_committed_results(capsys):
    text = report.main(["--print"])
    assert text in capsys.readouterr().out
    for name in ("gpu-kernels-cuda-", "sphere-resampling-cpu-", "onnx-runtime-cpu-", "cpu-float32-"):
        assert f"`benchmarks/results/{name}" in text  # named from the checkout's root


def test_report_says_how_far_from_the_target():
    def row(name, fb, fwd=None, peaks=None, peer=None, suite="layers"):
        mode = "train_step" if suite == "unet" else "forward_backward"
        both = {"ratio": fb, "peak_bytes": dict(zip(("equiconv", "conv2d"), peaks or ()))}
        if peer is not None:
            both["ratios"] = {"torch_harmonics": peer}
        return {"name": name, "suite": suite, mode: both, "forward": {"ratio": fwd}}
    rows = [row("a", 1.2, 1.0, (3, 2), 3.0), row("b", 2.6, 1.4, (4, 2), 2.6), row("c", 1.9), row("d", None)]
    assert report._against_target(rows, "cpu").splitlines() == [
        "Against the CPU targets:",
        "- forward+backward (the U-Net: a training step) at most 1.50× Conv2d's time: 1.20× to 2.60×, "
        "median 1.90×; 1 of 3 within it; missed by b (2.60×), c (1.90×).",
        "- forward at most 1.30× Conv2d's time: 1.00× to 1.40×, median 1.20×; 1 of 2 within it; missed by b (1.40×).",
        "- peak memory at most 1.50× Conv2d's: 1.50× to 2.00×, median 1.75×; 1 of 2 within it; missed by b (2.00×).",
        "- torch-harmonics' forward+backward at least 2.00× EquiConv's time: 1.00× to 2.50×, median 1.75×; "
        "1 of 2 within it; missed by b (1.00×)."]
    assert report._against_target([row("u", 1.4, suite="unet")], "cuda") == (
        "Against the CUDA targets:\n- forward+backward (the U-Net: a training step) at most 1.50× Conv2d's time: "
        "1.40×; 1 of 1 within it.")
    assert report._against_target([row("d", None)], "cpu") == ""


@pytest.mark.parametrize("argv, argument", [
    (["--size", "100"], "--size"), (["--size", "100x200"], "--size"), (["--suite", "layers,nope"], "--suite"),
    (["--batch", "0"], "--batch"), (["--repeats", "0"], "--repeats"), (["--warmups", "x"], "--warmups"),
    (["--dtype", "float16"], "--dtype"), (["--device", "tpu"], "--device"), (["--quick", "--size", "64x128"], "--quick"),
])
def test_bad_arguments_are_named(argv, argument, capsys):
    with pytest.raises(SystemExit):
        cli.parse_args(argv)
    assert f"argument {argument}" in capsys.readouterr().err


def test_case_sets():
    first = cases.quick()[0]
    assert (first.batch, first.in_channels, first.out_channels, first.height, first.width) == (4, 64, 64, 128, 256)
    assert {c.suite for c in cases.quick()} == set(cases.SUITES)
    layers = cases.unet_layers(128, 256, 1)
    assert len(layers) == 14 and {(c.in_channels, c.height) for c in layers} >= {(3, 128), (512, 16), (512, 8)}
    cpu = cases.plan("cpu")
    assert len([c for c in cpu if c.suite == "layers"]) == 14 * 3
    assert [c.kernel_size for c in cpu if c.suite == "kernels"] == list(cases.KERNEL_SIZES)
    assert [(c.stride, c.out_size) for c in cpu if c.suite == "stride"] == [(2, (64, 128))]
    assert [c for c in cpu if c.suite == "unet"] == [UNetCase(4, 128, 256)]
    assert {(c.height, c.width) for c in cases.plan("cuda", ["kernels"])} == {(256, 512), (512, 1024)}


@pytest.mark.parametrize("case, dtype", [(Case(2, 8, 8, 32, 64), torch.float32),
                                         (Case(3, 4, 4, 32, 64, 5, stride=2), torch.bfloat16)])
def test_geometry_bytes(case, dtype):
    ho, wo = case.out_size
    taps = case.kernel_size ** 2
    sizes = memory.geometry_bytes(case, dtype)
    assert sizes["table"] == ho * taps * 2 * 8  # (y, x) in float64 per output row and tap
    assert sizes["deform_offsets"] == case.batch * 2 * taps * ho * wo * dtype.itemsize
    rows, _ = equiconv.sampling_grid(case.height, case.width, case.kernel_size, case.stride, case.padding)
    assert rows.shape == (ho, case.kernel_size, case.kernel_size)
    assert sizes["plan"] is None or sizes["plan"] >= ho * taps * (8 + 4 * 4)  # offset and 4 weights per tap


def test_batch_offsets_repeat_the_layer_geometry():
    case = Case(3, 4, 4, 32, 64, 5, stride=2)
    offsets = batch_offsets(case, torch.device("cpu"), torch.float32)
    assert offsets.shape == (3, 2 * 25, *case.out_size) and offsets.dtype == torch.float32
    assert offsets.is_contiguous()  # materialised, as a generic deformable convolution holds it
    single = equiconv.deform_offsets(case.height, case.width, 5, 2, 2)
    assert torch.equal(offsets, single.float().expand(3, -1, -1, -1))


def deform_conv2d_emulated(x, offsets, weight, bias, stride, padding):
    """torchvision.ops.deform_conv2d's contract, in plain PyTorch: tap (i, j) of output (r, q)
    reads (r*s - p + i + dy, q*s - p + j + dx), bilinear, zero outside the image; offsets hold
    (dy, dx) per tap, taps in row-major order."""
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    ho, wo = offsets.shape[-2:]
    base_y = (torch.arange(ho) * stride - padding).view(ho, 1).to(x)
    base_x = (torch.arange(wo) * stride - padding).view(1, wo).to(x)
    samples = []
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        y = base_y + i + offsets[:, 2 * t]
        xs = base_x + j + offsets[:, 2 * t + 1]
        grid = torch.stack((2 * xs / (w - 1) - 1, 2 * y / (h - 1) - 1), dim=-1)
        samples.append(F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True))
    out = torch.einsum("nctrq,oct->norq", torch.stack(samples, dim=2), weight.reshape(o, c, kh * kw))
    return out + bias.view(1, -1, 1, 1)


def test_deform_offsets_follow_the_deform_conv2d_convention():
    """On a partial panorama EquiConv reads zeros outside the image, as deform_conv2d does, so the
    two agree everywhere; this pins the layout and sign of equiconv.deform_offsets."""
    torch.manual_seed(0)
    sphere = dict(lat_range=(60.0, -40.0), lon_span=180.0)
    layer = equiconv.EquiConv2d(3, 5, 3, stride=2, padding=1, dtype=torch.float64, **sphere)
    x = torch.randn(2, 3, 20, 36, dtype=torch.float64)
    offsets = equiconv.deform_offsets(20, 36, 3, 2, 1, **sphere).expand(2, -1, -1, -1)
    expected = layer(x)
    got = deform_conv2d_emulated(x, offsets, layer.weight, layer.bias, 2, 1)
    torch.testing.assert_close(got, expected)


def test_interior_mask_is_where_the_full_sphere_agrees():
    torch.manual_seed(0)
    case = Case(1, 3, 4, 16, 32)
    layer = equiconv.EquiConv2d(3, 4, 3, padding=1, dtype=torch.float64)
    x = torch.randn(1, 3, 16, 32, dtype=torch.float64)
    rows, cols = equiconv.sampling_grid(16, 32, 3, 1, 1)
    mask = checks.interior_mask(rows, cols, 16, 32, 1, 32)
    assert mask.shape == (16, 32) and not mask[0].any() and not mask[-1].any()  # polar rows cross the pole
    assert not mask[:, 0].any() and not mask[:, -1].any() and mask[8, 2:-2].all()  # the seam wraps
    offsets = batch_offsets(case, torch.device("cpu"), torch.float64)
    diff = (deform_conv2d_emulated(x, offsets, layer.weight, layer.bias, 1, 1) - layer(x)).abs()
    assert diff.amax(dim=(0, 1))[mask].max() < 1e-9
    assert diff.amax(dim=(0, 1))[~mask].max() > 1e-3  # and outside it they really differ


@pytest.mark.skipif(deform_conv2d() is None, reason="torchvision is not installed")
def test_torchvision_agrees_on_the_interior():
    case = Case(2, 3, 4, 32, 64)
    layer = torch.nn.Conv2d(3, 4, 3, padding=1)
    layers = {"deform_conv2d": lambda x: deform_conv2d()(x, batch_offsets(case, x.device, x.dtype), layer.weight,
                                                         layer.bias, (1, 1), (1, 1)),
              "equiconv": equiconv.EquiConv2d.from_conv2d(layer)}
    result = checks.deform_agreement(case, torch.randn(2, 3, 32, 64), layers, torch.float32)
    assert result["ok"], result
    assert not math.isnan(result["max_abs_diff"])


@pytest.mark.slow  # uses the quick benchmark run
def test_results_files_are_created_with_the_umask(quick_run):
    out, _ = quick_run
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask(), path.name


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_subject_failing_is_an_error_without_results(tmp_path, monkeypatch, capsys):
    """With the compiled core unavailable the run stops before measuring and writes nothing
    (it used to exit 0 with EquiConv as '—' in every row)."""
    monkeypatch.setattr(equiconv._core, "_C", None)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--quick", "--out", str(tmp_path / "out"), "--warmups", "0", "--repeats", "1", "--no-plot"])
    assert stopped.value.code not in (0, None)
    assert "EquiConv2d cannot run" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*"))


def test_a_run_where_the_subject_was_skipped_writes_nothing(tmp_path, monkeypatch):
    """The subject failing inside a case (not at the first check) is an error too."""
    real = cli.measure

    def subject_lost(case, *args):
        row = real(case, *args)
        return {**row, "skipped": {**row["skipped"], "equiconv": "RuntimeError: lost"}}

    monkeypatch.setattr(cli, "measure", subject_lost)
    monkeypatch.setattr(cli.case_sets, "quick", lambda: [Case(1, 4, 4, 16, 32)])
    with pytest.raises(SystemExit, match="(?s)EquiConv2d was not measured.*lost"):
        cli.main(["--quick", "--out", str(tmp_path), "--warmups", "0", "--repeats", "1", "--no-plot"])
    assert not list(tmp_path.iterdir())


def test_subject_failures_and_the_report_refuses_such_a_file(tmp_path):
    row = {"name": "b1", "suite": "layers", "skipped": {},
           "forward": {"conv2d_ms": 1.0, "equiconv_ms": 2.0}, "forward_backward": {"conv2d_ms": 1.0}}
    assert results.subject_failures({"results": [row]}) == ["b1: forward_backward: not timed"]
    assert results.subject_failures({"results": [{**row, "error": "out of memory"}]}) == ["b1: out of memory"]
    ok = {**row, "forward_backward": {"conv2d_ms": 1.0, "equiconv_ms": 3.0}}
    assert results.subject_failures({"results": [ok]}) == []
    path = _report(tmp_path, "dashes", "2026-01-01T00:00:00", ["layers"])
    content = json.loads(path.read_text())
    path.write_text(json.dumps({**content, "results": [row]}))
    page = tmp_path / "benchmarks.md"
    page.write_text(f"{report.BEGIN}\n{report.END}\n")
    with pytest.raises(SystemExit):
        report.main([str(path), "--page", str(page)])
    assert page.read_text() == f"{report.BEGIN}\n{report.END}\n"


def test_an_output_folder_that_cannot_be_written_fails_before_measuring(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit):
        cli.parse_args(["--quick", "--out", str(tmp_path / "file" / "results")])
    assert "argument --out" in capsys.readouterr().err
