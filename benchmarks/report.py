"""python -m benchmarks.report: regenerates the benchmark tables of docs/benchmarks.md.

They go between the page's marker comments: from the latest results file per (device, dtype,
suite), then the side benchmarks' latest files (sphere resampling, ONNX Runtime); each table names
its file, so every figure on the page can be traced to a run."""
import argparse
import json
import statistics
from pathlib import Path

from benchmarks import results, targets

BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmarks.md"
# Results files of the side benchmarks, by name prefix (results.write_timestamped); the others are the suite's.
SIDE = ("gpu-kernels-", "sphere-resampling-", "onnx-runtime-")
# How each target reads (targets.TARGETS holds the figures).
TARGET_LABELS = {"forward_backward": "forward+backward (the U-Net: a training step) at most {} Conv2d's time",
                 "forward": "forward at most {} Conv2d's time", "memory": "peak memory at most {} Conv2d's",
                 "peer_speedup": "torch-harmonics' forward+backward at least {} EquiConv's time"}
TITLES = {"layers": "layers", "kernels": "kernel-size sweep", "stride": "stride 2",
          "operators": "the operator family against its torch.nn counterparts (the baseline column is that "
                       "counterpart: nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d)",
          "unet": "U-Net training step (forward, cross-entropy, backward, clipping, Adam)"}
LEGEND = ("Ratios are a candidate's median time over `nn.Conv2d`'s, both from the same interleaved "
          "rounds (below 1 is faster than `nn.Conv2d`); `—` means not measured (the reason is in the "
          "results file). Peak memory is the extra memory of one step; geometry is what EquiConv keeps "
          "per layer (its row table) against the batch-sized offsets a generic deformable convolution needs. "
          "torch-harmonics is NVIDIA's DISCO convolution on the sphere; how it was matched to the layers is "
          "stated per results file.")


def _ratio(value) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _ms(value) -> str:
    """About three significant digits, without exponents."""
    if value is None:
        return "—"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else \
        f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def _bytes(value) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} GiB"


def _pair(a, b) -> str:
    return "—" if a is None and b is None else f"{_bytes(a)} / {_bytes(b)}"


def _table(header, lines) -> list:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(line) + " |" for line in lines]


def _layer_line(row) -> list:
    fwd, both = row.get("forward", {}), row.get("forward_backward", {})
    peaks, geometry = both.get("peak_bytes", {}), row.get("geometry_bytes", {})
    return [row["name"], _ms(fwd.get("conv2d_ms")), _ratio(fwd.get("ratio")), _ms(both.get("conv2d_ms")),
            _ratio(both.get("ratio")), _ratio(both.get("ratios", {}).get("deform_conv2d")),
            _ratio(both.get("ratios", {}).get("reference")), _ratio(both.get("ratios", {}).get("torch_harmonics")),
            _pair(peaks.get("equiconv"), peaks.get("conv2d")),
            _pair(geometry.get("table"), geometry.get("deform_offsets"))]


def _op_line(row) -> list:
    fwd, both = row.get("forward", {}), row.get("forward_backward", {})
    peaks = both.get("peak_bytes", {})
    return [row["name"], _ms(fwd.get("conv2d_ms")), _ratio(fwd.get("ratio")), _ms(both.get("conv2d_ms")),
            _ratio(both.get("ratio")), _ratio(both.get("ratios", {}).get("reference")),
            _pair(peaks.get("equiconv"), peaks.get("conv2d")), _ratio(row.get("target"))]


def _unet_line(row) -> list:
    step = row.get("train_step", {})
    rate, peaks = step.get("images_per_s", {}), step.get("peak_bytes", {})
    return [row["name"], _ms(step.get("conv2d_ms")), _ratio(step.get("ratio")),
            "—" if rate.get("conv2d") is None else f"{rate['conv2d']:.3g}",
            "—" if rate.get("equiconv") is None else f"{rate['equiconv']:.3g}",
            _pair(peaks.get("equiconv"), peaks.get("conv2d"))]


LAYER_HEADER = ("case (batch, channels, kernel, stride, size)", "Conv2d fwd ms", "EquiConv fwd",
                "Conv2d fwd+bwd ms", "EquiConv fwd+bwd", "deform_conv2d fwd+bwd", "reference fwd+bwd",
                "torch-harmonics fwd+bwd", "peak fwd+bwd: EquiConv / Conv2d", "geometry: table / deform offsets")
OPS_HEADER = ("case (batch, operator, channels, kernel, stride, padding, input size)", "torch.nn fwd ms",
              "equiconv fwd", "torch.nn fwd+bwd ms", "equiconv fwd+bwd", "reference fwd+bwd",
              "peak fwd+bwd: equiconv / torch.nn", "CPU target fwd+bwd")
UNET_HEADER = ("case", "std step ms", "equi / std", "std images/s", "equi images/s", "peak: equi / std")
LINES = {"unet": _unet_line, "operators": _op_line}


def _against_target(rows, device_type) -> str:
    """A line per target of the device type: the spread of the measure over the cases, how many
    meet it, and each case that misses it, with its figure."""
    lines = []
    for measure, target in targets.TARGETS.get(device_type, {}).items():
        values = [(row["name"], targets.measures(row).get(measure)) for row in rows]
        values = [(name, value) for name, value in values if value is not None]
        if not values:
            continue
        ordered = sorted(value for _, value in values)
        spread = (f"{_ratio(ordered[0])} to {_ratio(ordered[-1])}, median {_ratio(statistics.median(ordered))}"
                  if len(ordered) > 1 else _ratio(ordered[0]))
        misses = [(name, value) for name, value in values if not targets.meets(measure, value, target)]
        line = (f"- {TARGET_LABELS[measure].format(_ratio(target))}: {spread}; "
                f"{len(values) - len(misses)} of {len(values)} within it")
        lines.append(line + ("; missed by " + ", ".join(f"{name} ({_ratio(value)})" for name, value in misses)
                             if misses else "") + ".")
    return f"Against the {device_type.upper()} targets:\n" + "\n".join(lines) if lines else ""


def _notes(rows) -> list:
    """What was not measured and why, and the deform_conv2d agreement check."""
    notes, skipped = [], {}
    for row in rows:
        for name, why in row.get("skipped", {}).items():
            skipped.setdefault(name, []).append(why)
        if "error" in row:
            notes.append(f"{row['name']}: not measured ({row['error']})")
    for name, reasons in skipped.items():
        more = " (and other reasons)" if len(set(reasons)) > 1 else ""
        notes.append(f"{name} not run in {len(reasons)} of {len(rows)} cases: {reasons[0]}{more}")
    checks = [row["deform_check"] for row in rows if "deform_check" in row]
    bad = [(row["name"], row["deform_check"]) for row in rows
           if row.get("deform_check", {}).get("ok") is False]
    if checks:
        notes.append(f"deform_conv2d vs EquiConv on outputs whose taps neither wrap nor cross a pole: "
                     f"{sum(c.get('ok') is True for c in checks)} of {len(checks)} cases agree" +
                     "".join(f"; MISMATCH in {name} (max |diff| {c['max_abs_diff']:.3g}, "
                             f"largest output {c['max_abs_output']:.3g})" for name, c in bad) +
                     "".join(f"; not checked in {row['name']}: {row['deform_check']['skipped']}"
                             for row in rows if "skipped" in row.get("deform_check", {})))
    return [f"- {note}" for note in notes]


def _where(path, root=ROOT) -> str:
    """The file's path from the checkout's root, where the commands run; absolute outside it."""
    path = Path(path).resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _peer_matching(report) -> str:
    """How the file's torch-harmonics candidate was built, as the file itself records it."""
    what = report.get("candidates", {}).get("torch_harmonics") if report.get("torch_harmonics") else None
    return f" torch-harmonics: {what}." if what else ""


def render(selection, source=None, root=ROOT) -> str:
    """Markdown for ``[(report, suites)]`` (results.latest): per file, where it came from, then
    a table per suite with its notes."""
    out = [LEGEND]
    for report, suites in selection:
        where = _where(source or report["path"], root)
        out.append(
            f"\n**{report['device_type'].upper()} {report['dtype']}{', quick set' if report['quick'] else ''}** "
            f"— from `{where}`: {report['device']} (nn.Conv2d on {report.get('baseline', '?')}), "
            f"{report['threads']} threads, torch {report['torch']}"
            f"{', CUDA ' + report['cuda'] if report.get('cuda') else ''}"
            f"{', torch-harmonics ' + report['torch_harmonics'] if report.get('torch_harmonics') else ''}, "
            f"commit {report['commit']}, "
            f"{report['date'][:10]}. {report['method'][0].upper() + report['method'][1:]}."
            f"{_peer_matching(report)}")
        for suite in suites:
            rows = [row for row in report["results"] if row["suite"] == suite]
            lines = [LINES.get(suite, _layer_line)(row) for row in rows]
            out += [f"\n*{TITLES.get(suite, suite)}*\n"]
            out += _table({"unet": UNET_HEADER, "operators": OPS_HEADER}.get(suite, LAYER_HEADER), lines)
            target = "" if suite == "operators" else _against_target(rows, report["device_type"])
            out += ["", target] if target else []
            notes = _notes(rows)
            out += [""] + notes if notes else []
    return "\n".join(out)


def _side_key(path: Path) -> str:
    """A side file's name without its ``-yyyymmdd-hhmmss`` stamp: the benchmark, device and set."""
    return path.stem.rsplit("-", 2)[0]


def latest_side(paths) -> list:
    """The newest side file per benchmark, device and set (the stamps sort by time), in SIDE's order."""
    newest = {}
    for path in sorted(map(Path, paths), key=lambda p: p.stem):
        newest[_side_key(path)] = path
    return sorted(newest.values(), key=lambda p: ([p.name.startswith(s) for s in SIDE].index(True), p.name))


def _provenance(content: dict, where: str, versions: str) -> str:
    return (f"from `{where}`: {content.get('device', 'cpu').upper()} ({content['machine']}), "
            f"{content['threads']} thread{'s' if content['threads'] != 1 else ''}, torch {content['torch']}, "
            f"{versions}, {content['date'][:10]}; `{content['command'].strip()}`.")


def _render_resampling(content: dict, where: str) -> list:
    height, width = content["size"]
    lines = [[name, _ms(row["equiconv_ms"]), _ms(row["pytorch360convert_ms"]), _ratio(row["ratio"])]
             for name, row in content["cases"].items()]
    return [f"\n**Sphere resampling against pytorch360convert**, a {height}×{width} panorama, no grad — "
            + _provenance(content, where, f"pytorch360convert {content['pytorch360convert']}")
            + " Medians of interleaved rounds; ratio = equiconv / pytorch360convert.\n",
            *_table(("case", "equiconv ms", "pytorch360convert ms", "equiconv / pytorch360convert"), lines)]


def _render_onnx(content: dict, where: str) -> list:
    lines = [[row["name"], _ms(row["compiled_ms"]), _ms(row["onnxruntime_ms"]), _ms(row["nn_onnxruntime_ms"]),
              _ratio(row["ort_vs_compiled"]), _ratio(row["ort_vs_nn_ort"]), f"{row['max_abs_difference']:.1e}"]
             for row in content["cases"]]
    spans = {}
    for row in content["cases"]:
        kind = "pooling" if row["case"].get("kind", "").endswith("pool") else "convolutions"
        spans.setdefault(kind, []).append(row["ort_vs_compiled"])
    spread = "; ".join(f"{kind} {_ratio(min(v))}" + (f" to {_ratio(max(v))}" if len(v) > 1 else "")
                       for kind, v in spans.items())
    return ["\n**Exported layers in ONNX Runtime** — "
            + _provenance(content, where, f"onnxruntime {content['onnxruntime']}")
            + f" {content['method'][0].upper() + content['method'][1:]}. The torch.nn column is the layer's "
            "torch.nn counterpart exported and run the same way; the last column is the largest difference "
            "between onnxruntime's output and PyTorch's.\n",
            *_table(("case", "compiled op ms", "onnxruntime ms", "torch.nn in onnxruntime ms",
                     "onnxruntime / compiled op", "onnxruntime / torch.nn in onnxruntime", "max abs difference"),
                    lines),
            "", f"onnxruntime / compiled op: {spread}."]


def _render_gpu_kernels(content: dict, where: str) -> list:
    """make gpu-check's kernel-set table: each set's fwd+bwd time over cuDNN's, per dtype's range."""
    env = content["environment"]

    def ratio(row, name):
        return row[f"{name}_ms"] / row["cudnn_ms"] if row.get(f"{name}_ms") is not None else None
    lines = [[row["layer"], row["dtype"], _ms(row["cudnn_ms"]), _ms(row.get("triton_ms")), _ratio(ratio(row, "triton")),
              _ms(row.get("cuda_ms")), _ratio(ratio(row, "cuda")),
              "—" if row.get("max_rel_error") is None else f"{row['max_rel_error']:.1e}"] for row in content["rows"]]
    spans = []
    for dtype in dict.fromkeys(row["dtype"] for row in content["rows"]):
        for name, label in (("triton", "Triton"), ("cuda", "CUDA C++")):
            values = [v for v in (ratio(r, name) for r in content["rows"] if r["dtype"] == dtype) if v is not None]
            if len(values) == 1:
                spans.append(f"{dtype} {label} {_ratio(values[0])} (1 layer)")
            elif values:
                spans.append(f"{dtype} {label} {_ratio(min(values))} to {_ratio(max(values))} ({len(values)} layers)")
    memory = content.get("memory_4k") or {}
    return [f"\n**GPU kernel sets against cuDNN**, equi_conv2d forward+backward — from `{where}`: {env['device']} "
            f"({env['baseline']}), torch {env['torch']}, CUDA {env['cuda']}, commit {env['commit']}, "
            f"{env['date'][:10]}; `{content['command']}`. {content['method'][0].upper() + content['method'][1:]}; "
            "float32 with TF32 on both sides; Triton tiles autotuned. The last column is the largest difference "
            "between the two sets' outputs, relative to the largest output.\n",
            *_table(("layer", "dtype", "cuDNN ms", "Triton ms", "Triton / cuDNN", "CUDA C++ ms", "CUDA C++ / cuDNN",
                     "Triton vs C++"), lines),
            "", f"Over cuDNN: {'; '.join(spans)}."
            + ("" if memory else " The 4K memory case was not measured in this run.")]


def render_side(paths, root=ROOT) -> str:
    """Markdown for the side benchmarks' files, one block each, naming its file."""
    renderers = dict(zip(SIDE, (_render_gpu_kernels, _render_resampling, _render_onnx)))
    out = []
    for path in paths:
        content = json.loads(Path(path).read_text())
        render_one = next(f for prefix, f in renderers.items() if Path(path).name.startswith(prefix))
        out += render_one(content, _where(path, root))
    return "\n".join(out)


def update_page(page: Path, text: str) -> None:
    """Replaces what lies between the markers; everything outside them is left as it is."""
    content = page.read_text()
    if content.count(BEGIN) != 1 or content.count(END) != 1 or content.index(BEGIN) > content.index(END):
        raise SystemExit(f"{page}: needs exactly one {BEGIN} followed by one {END}")
    head, rest = content.split(BEGIN)
    _, tail = rest.split(END)
    page.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="results files (default: all in --results)")
    parser.add_argument("--results", type=Path, default=results.RESULTS, help="directory of results files")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to update (default docs/benchmarks.md)")
    parser.add_argument("--print", action="store_true", help="print the tables, leave the page alone")
    args = parser.parse_args(argv)
    files = args.files or results.results_files(args.results)
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        parser.error(f"argument files: no such file: {', '.join(missing)}")
    side = [Path(f) for f in files if Path(f).name.startswith(SIDE)]
    files = [f for f in files if not Path(f).name.startswith(SIDE)]
    if not files:
        parser.error(f"argument --results: no results files in {args.results}")
    for path in files:
        failures = results.subject_failures(results.load(path))
        if failures:
            parser.error(f"argument files: {path} has no EquiConv figure for {failures[0]} "
                         f"(and {len(failures) - 1} more); it is no result: delete it or rerun")
    text = render(results.latest(files))
    text += "\n" + render_side(latest_side(side)) if side else ""
    if args.print:
        print(text)
    else:
        update_page(args.page, text)
        print(f"updated {args.page} from {len(files) + len(side)} results file(s)")
    return text


if __name__ == "__main__":
    main()
