"""python -m benchmarks.report: regenerates the README's benchmark tables, between its marker
comments, from the latest results file per (device, dtype, suite); each table names its file,
so every figure in the README can be traced to a run."""
import argparse
import os
import statistics
from pathlib import Path

from benchmarks import results, targets

BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"
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


def _where(path, relative_to) -> str:
    path = Path(path).resolve()
    try:
        return os.path.relpath(path, relative_to) if relative_to else str(path)
    except ValueError:
        return str(path)


def _peer_matching(report) -> str:
    """How the file's torch-harmonics candidate was built, as the file itself records it."""
    what = report.get("candidates", {}).get("torch_harmonics") if report.get("torch_harmonics") else None
    return f" torch-harmonics: {what}." if what else ""


def render(selection, source=None, relative_to=None) -> str:
    """Markdown for ``[(report, suites)]`` (results.latest): per file, where it came from, then
    a table per suite with its notes."""
    out = [LEGEND]
    for report, suites in selection:
        where = _where(source or report["path"], relative_to)
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


def update_readme(readme: Path, text: str) -> None:
    """Replaces what lies between the markers; everything outside them is left as it is."""
    content = readme.read_text()
    if content.count(BEGIN) != 1 or content.count(END) != 1 or content.index(BEGIN) > content.index(END):
        raise SystemExit(f"{readme}: needs exactly one {BEGIN} followed by one {END}")
    head, rest = content.split(BEGIN)
    _, tail = rest.split(END)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="results files (default: all in --results)")
    parser.add_argument("--results", type=Path, default=results.RESULTS, help="directory of results files")
    parser.add_argument("--readme", type=Path, default=README, help="the README to update")
    parser.add_argument("--print", action="store_true", help="print the tables, leave the README alone")
    args = parser.parse_args(argv)
    files = args.files or results.results_files(args.results)
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        parser.error(f"argument files: no such file: {', '.join(missing)}")
    if not files:
        parser.error(f"argument --results: no results files in {args.results}")
    for path in files:
        failures = results.subject_failures(results.load(path))
        if failures:
            parser.error(f"argument files: {path} has no EquiConv figure for {failures[0]} "
                         f"(and {len(failures) - 1} more); it is no result: delete it or rerun")
    text = render(results.latest(files), relative_to=args.readme.resolve().parent)
    if args.print:
        print(text)
    else:
        update_readme(args.readme, text)
        print(f"updated {args.readme} from {len(files)} results file(s)")
    return text


if __name__ == "__main__":
    main()
