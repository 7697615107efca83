"""Results files: writing them (JSON, and the same figures as CSV, atomically), reading them back
(files of the first schema included), refusing those where the subject was not measured, and
choosing the latest per device, dtype and suite."""
import csv
import io
import json
import time
from pathlib import Path

from panosis_models.atomic import atomic_file

RESULTS = Path(__file__).resolve().parent / "results"
SCHEMA = 2
BASELINE, SUBJECT = "conv2d", "equiconv"
MODES = ("forward", "forward_backward", "train_step")
CSV_FIELDS = ("suite", "name", "batch", "in_channels", "out_channels", "height", "width", "kernel_size",
              "stride", "channels", "mode", "candidate", "median_ms", "ratio_to_conv2d", "peak_bytes",
              "images_per_s", "skipped")


def stem(report: dict) -> str:
    """``{device type}-{dtype}-{label}-{yyyymmdd}-{hhmmss}-{commit}``, the label naming the
    suite(s) and sizes: two runs never share a name unless they share the second and commit."""
    when = report["date"][:19].replace("-", "").replace(":", "").replace("T", "-")
    return f"{report['device_type']}-{report['dtype']}-{report['label']}-{when}-{report['commit']}"


def write_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text)


def write_timestamped(report: dict, out_dir: Path, name: str) -> Path:
    """``report`` as ``out_dir/<name>-<UTC date and time>.json``, written whole; the path, also
    printed (the side benchmarks' results: ONNX Runtime, sphere resampling)."""
    path = timestamped_path(out_dir, name)
    write_atomic(path, json.dumps(report, indent=1) + "\n")
    print(f"wrote {path}")
    return path


def timestamped_path(out_dir: Path, name: str) -> Path:
    """``out_dir/<name>-<UTC date and time>.json`` (out_dir made if missing): a side result's name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"


def subject_failures(report: dict) -> list:
    """Why the subject (EquiConv) has no figure in some row, one line per row: a results file
    with any is no result at all (the benchmarks page would show dashes where EquiConv should be)."""
    failures = []
    for row in report["results"]:
        modes = [mode for mode in MODES if mode in row]
        why = (row.get("error") or row.get("skipped", {}).get(SUBJECT) or (not modes and "nothing measured") or
               next((row[m].get("error") or f"{m}: not timed" for m in modes if f"{SUBJECT}_ms" not in row[m]), None))
        if why:
            failures.append(f"{row['name']}: {why}")
    return failures


def csv_rows(report: dict) -> list:
    """One row per (case, mode, candidate), and one per candidate left out of a case."""
    rows = []
    for result in report["results"]:
        case = result["case"]
        base = {"suite": result["suite"], "name": result["name"],
                **{k: case.get(k) for k in CSV_FIELDS[2:10]}}
        if isinstance(base["channels"], list):
            base["channels"] = "-".join(map(str, base["channels"]))
        for mode in MODES:
            summary = result.get(mode)
            if summary is None:
                continue
            if "error" in summary:
                rows.append({**base, "mode": mode, "skipped": summary["error"]})
                continue
            for name in summary["peak_bytes"]:
                rows.append({**base, "mode": mode, "candidate": name, "median_ms": summary[f"{name}_ms"],
                             "ratio_to_conv2d": summary["ratios"].get(name, 1.0 if name == "conv2d" else None),
                             "peak_bytes": summary["peak_bytes"][name],
                             "images_per_s": summary.get("images_per_s", {}).get(name)})
        for name, why in result.get("skipped", {}).items():
            rows.append({**base, "candidate": name, "skipped": why})
        if "error" in result:
            rows.append({**base, "skipped": result["error"]})
    return rows


def write(report: dict, out_dir: Path) -> tuple:
    """``(json_path, csv_path)``, each replaced in one step so a reader never sees half a file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem(report)}.json"
    write_atomic(path, json.dumps(report, indent=1) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    write_atomic(path.with_suffix(".csv"), buffer.getvalue())
    return path, path.with_suffix(".csv")


def _upgrade(report: dict, path: Path) -> dict:
    """A file of the first schema (layers only, no suite or candidates) in today's terms."""
    quick = path.stem.split("-")[2] == "quick"
    report.update(schema=1, quick=quick, suites=["layers"], label=path.stem.split("-")[2],
                  baseline="oneDNN" if report["device_type"] == "cpu" else "cuDNN")
    for row in report["results"]:
        c = row["case"]
        row.setdefault("suite", "layers")
        row.setdefault("name", f"b{c['batch']} {c['in_channels']}->{c['out_channels']} k{c['kernel_size']} "
                               f"s{c['stride']} {c['height']}x{c['width']}")
        row.setdefault("skipped", {})
        for mode in ("forward", "forward_backward"):
            row[mode].setdefault("ratios", {"equiconv": row[mode]["ratio"]})
            row[mode].setdefault("peak_bytes", {})
    return report


def load(path) -> dict:
    path = Path(path)
    report = json.loads(path.read_text())
    if "schema" not in report:
        report = _upgrade(report, path)
    report["path"] = str(path)
    return report


def latest(paths) -> list:
    """``[(report, suites)]``: for every (device type, dtype, quick or not, suite), the newest
    file holding that suite; a file is listed once, with the suites it is the newest for."""
    newest = {}
    for report in sorted((load(p) for p in paths), key=lambda r: r["date"]):
        for suite in report["suites"]:
            newest[(report["device_type"], report["dtype"], report["quick"], suite)] = report
    chosen = {}
    for (_, _, _, suite), report in newest.items():
        chosen.setdefault(report["path"], (report, set()))[1].add(suite)
    order = sorted(chosen.values(), key=lambda rs: (rs[0]["device_type"], rs[0]["dtype"], rs[0]["quick"],
                                                    rs[0]["date"]))
    return [(report, [s for s in report["suites"] if s in suites]) for report, suites in order]


def results_files(directory: Path = RESULTS) -> list:
    return sorted(Path(directory).glob("*.json"))
