"""python -m benchmarks: EquiConv2d against nn.Conv2d (and the pure-PyTorch reference, and
torchvision's deform_conv2d where installed) on identical shapes, and the U-Net training step,
as ratios of interleaved medians; results as JSON + CSV (and a PNG of the ratios) in
benchmarks/results/. EquiConv failing to run is an error (exit status 1, no results file); only
a missing peer (torchvision, the reference over its budget) is skipped."""
import argparse
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from benchmarks import cases as case_sets
from benchmarks import memory, report, results
from benchmarks.candidates import CANDIDATES, REFERENCE_BUDGET, subject_runs
from benchmarks.devices import environment
from benchmarks.timing import CANNOT_RUN, measure, reason
from panosis_models import command
from panosis_models.atomic import writable_folder
from panosis_models.errors import InputError


def _size(text: str) -> tuple:
    height, width = command.size(text)
    if height < 16 or width < 16 or height % 16 or width % 16:
        raise argparse.ArgumentTypeError(
            f"{text!r}: height and width must be positive multiples of 16 (the U-Net pools 4 times)")
    return height, width


def _suite(text: str) -> str:
    if text not in case_sets.SUITES:
        raise argparse.ArgumentTypeError(f"unknown suite {text!r}; choose from {', '.join(case_sets.SUITES)}")
    return text


def _list_of(parse):
    """A comma-separated list, each item checked by ``parse`` (so errors name the argument)."""
    def parse_list(text: str) -> list:
        items = [parse(item.strip()) for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError("expected at least one value")
        return items
    return parse_list


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                        help="float32 everywhere; bfloat16 and float16 are meant for CUDA")
    parser.add_argument("--quick", action="store_true",
                        help="a small set (every suite and candidate) that runs in about a minute on 2 CPU cores")
    parser.add_argument("--suite", type=_list_of(_suite), default=list(case_sets.SUITES),
                        help=f"comma-separated subset of {','.join(case_sets.SUITES)} (default: all)")
    parser.add_argument("--size", type=_list_of(_size),
                        help="comma-separated HxW input sizes (default: 128x256 on cpu, 256x512,512x1024 on cuda)")
    parser.add_argument("--batch", type=_list_of(command.count(1)),
                        help="comma-separated batch sizes for every suite (default: 1,4,16 for the layers, "
                             "fewer for the sweeps and the U-Net step)")
    parser.add_argument("--warmups", type=command.count(0), default=2, help="untimed rounds before timing (default 2)")
    parser.add_argument("--repeats", type=command.count(1), default=7, help="timed rounds; medians are reported (default 7)")
    parser.add_argument("--out", type=Path, default=results.RESULTS, help="directory of the results files")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG of the ratios")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("argument --device: cuda requested but torch.cuda.is_available() is False")
    if args.device == "cpu" and args.dtype == "float16":
        parser.error("argument --dtype: float16 is measured on cuda only (use float32 or bfloat16 on cpu)")
    if args.quick and (args.size or args.batch):
        parser.error("argument --quick: fixes its own shapes; leave out --size and --batch")
    try:
        writable_folder(args.out)  # before any measurement, not after all of them
    except InputError as error:
        parser.error(f"argument {error}")
    try:
        subject_runs(torch.device(args.device), getattr(torch, args.dtype))
    except CANNOT_RUN as error:
        parser.exit(1, f"{parser.prog}: error: EquiConv2d cannot run on {args.device} {args.dtype}, so there is "
                       f"nothing to measure: {reason(error)}\n")
    return args


def run(args: argparse.Namespace, argv) -> dict:
    """Measures every selected case and returns the results file's content."""
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    if args.quick:
        cases = [c for c in case_sets.quick() if c.suite in args.suite]
    else:
        cases = case_sets.plan(device.type, args.suite, args.size, args.batch)
    suites = [s for s in case_sets.SUITES if any(c.suite == s for c in cases)]
    sizes = args.size or case_sets.DEFAULT_SIZES[device.type]
    label = "quick" if args.quick else "_".join(suites) + "-" + "_".join(f"{h}x{w}" for h, w in sizes)
    rows = []
    with tqdm(cases, desc="cases", unit="case") as bar:
        for case in bar:
            bar.set_postfix_str(case.name)
            rows.append(measure(case, device, dtype, args.warmups, args.repeats))
    return {
        "schema": results.SCHEMA, "label": label, "quick": args.quick, "suites": suites,
        **environment(device), "dtype": args.dtype,
        "method": (f"per case and mode, the candidates alternate within each of {args.repeats} timed rounds "
                   f"after a first call and {args.warmups} untimed rounds; medians of wall time with "
                   "synchronisation; ratios = candidate / nn.Conv2d from the same rounds"),
        "memory_method": memory.METHOD[device.type],
        "candidates": CANDIDATES, "reference_budget": REFERENCE_BUDGET[device.type],
        "argv": list(argv if argv is not None else sys.argv[1:]),
        "results": rows,
    }


def main(argv=None) -> dict:
    args = parse_args(argv)
    content = run(args, argv)
    failures = results.subject_failures(content)
    if failures:  # an error, not a results file full of dashes
        sys.exit("python -m benchmarks: error: EquiConv2d was not measured, no results written:\n  " +
                 "\n  ".join(failures))
    json_path, csv_path = results.write(content, args.out)
    print(report.render([(content, content["suites"])], source=json_path))
    written = [json_path, csv_path]
    if not args.no_plot:
        from benchmarks import plot
        written.append(plot.plot(content, json_path.with_suffix(".png")))
    print("written: " + ", ".join(map(str, written)))
    return {**content, "files": [str(p) for p in written]}


if __name__ == "__main__":
    main()
