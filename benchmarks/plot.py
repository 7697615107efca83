"""python -m benchmarks.plot [files...]: a PNG of each results file's ratios to nn.Conv2d (forward
and forward+backward per case, the U-Net training step), with the line of parity and the target,
written next to the file."""
import argparse
from pathlib import Path

from matplotlib.figure import Figure  # the object-oriented API: no global backend switch, no pyplot
from matplotlib.ticker import NullFormatter

from benchmarks import results, targets


def plot(report: dict, path: Path) -> Path:
    rows = [r for r in report["results"] if any(m in r for m in results.MODES)]
    labels = [f"{r['suite']}: {r['name']}" for r in rows]
    fwd = [r.get("forward", {}).get("ratio") for r in rows]
    both = [r.get("forward_backward", r.get("train_step", {})).get("ratio") for r in rows]
    deform = [r.get("forward_backward", {}).get("ratios", {}).get("deform_conv2d") for r in rows]
    y = range(len(rows))
    fig = Figure(figsize=(11, 1.2 + 0.38 * max(len(rows), 1)))
    ax = fig.subplots()
    for values, offset, colour, label in ((fwd, -0.2, "tab:blue", "forward"),
                                          (both, 0.2, "tab:orange", "forward+backward (U-Net: training step)")):
        shown = [(i + offset, v) for i, v in zip(y, values) if v is not None]
        ax.barh([i for i, _ in shown], [v - 1 for _, v in shown], left=1, height=0.38, color=colour, label=label)
    shown = [(i + 0.2, v) for i, v in zip(y, deform) if v is not None]
    if shown:
        ax.plot([v for _, v in shown], [i for i, _ in shown], "kx", label="deform_conv2d, forward+backward")
    ax.axvline(1.0, color="grey", lw=1, label="nn.Conv2d")
    target = targets.TARGETS.get(report["device_type"], {}).get("forward_backward")
    if target:
        ax.axvline(target, color="red", ls="--", lw=1, label=f"target: forward+backward ≤ {target:g}×")
    ax.set_xscale("log")
    measured = [v for v in fwd + both + deform if v is not None] + [1.0, target or 1.0]
    low, high = min(measured) / 1.2, max(measured) * 1.2
    ticks = [2.0 ** e for e in range(-6, 12) if low <= 2.0 ** e <= high]
    ax.set_xlim(low, high)
    ax.set_xticks(ticks, [f"{t:g}×" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time / nn.Conv2d time (interleaved medians; log scale)")
    ax.set_title(f"EquiConv2d vs nn.Conv2d: {report['device']}, {report['dtype']}, {report['date'][:10]}, "
                 f"commit {report['commit']}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plot", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="results files (default: the latest per device, dtype and suite in benchmarks/results)")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        parser.error(f"argument files: no such file: {', '.join(missing)}")
    reports = ([results.load(f) for f in args.files] if args.files
               else [report for report, _ in results.latest(results.results_files())])
    written = [plot(report, Path(report["path"]).with_suffix(".png")) for report in reports]
    for path in written:
        print(f"written: {path}")
    return written


if __name__ == "__main__":
    main()
