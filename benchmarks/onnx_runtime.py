"""onnxruntime inference of exported equiconv layers beside the compiled op's:
``python -m benchmarks.onnx_runtime [--set quick|layers]``. Each case exports the equiconv layer
and its torch.nn counterpart with ``torch.onnx.export`` and times, interleaved
(``timing.interleaved_medians``), the compiled op in PyTorch (no grad), the exported layer in
onnxruntime and the counterpart in onnxruntime, on CPU with the same thread count; it reports
milliseconds, the ratios onnxruntime / compiled op and onnxruntime / the counterpart in
onnxruntime, and the largest difference between onnxruntime's output and PyTorch's. A JSON file
goes to benchmarks/results/."""
import argparse
import logging
import platform
import time
import warnings
from pathlib import Path

import torch

import equiconv
from benchmarks import cases as case_sets
from benchmarks import operators, results
from benchmarks.timing import interleaved_medians

SETS = ("quick", "layers")


def case_list(name: str, height: int, width: int, batch: int) -> list:
    """'quick': the benchmark's quick set (its U-Net step left out) and a 2x2 average pooling;
    'layers': the U-Net's 3x3 layers and the operator family's layers at ``height`` x ``width``."""
    if name == "quick":
        quick = [c for c in case_sets.quick() if c.suite != "unet"]
        return quick + [operators.OpCase("avg_pool", 2, 32, 64, 128, 2, 2, 0)]
    return case_sets.unet_layers(height, width, batch) + case_sets.operator_calls(height, width, batch)


def modules(case):
    """(the torch.nn counterpart, its equiconv twin sharing its parameters), in eval mode."""
    if isinstance(case, operators.OpCase):
        baseline, subject, _ = operators._modules(case, torch.device("cpu"), torch.float32)
    else:
        baseline = torch.nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, case.stride, case.padding)
        subject = equiconv.EquiConv2d.from_conv2d(baseline)
    return baseline.eval(), subject.eval()


def session(module, x, threads: int):
    """An onnxruntime session running ``module`` as torch.onnx.export (the default exporter) gives it."""
    import onnxruntime

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (x,), verbose=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    # no busy-waiting after a run: its spinning threads would slow down the compiled op timed next
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(program.model_proto.SerializeToString(), options,
                                        providers=["CPUExecutionProvider"])


def measure(case, warmups: int, repeats: int) -> dict:
    torch.manual_seed(0)
    baseline, subject = modules(case)
    channels = case.in_channels if hasattr(case, "in_channels") else case.channels
    x = torch.randn(case.batch, channels, case.height, case.width)
    threads = torch.get_num_threads()
    ours, theirs = session(subject, x, threads), session(baseline, x, threads)
    feed = {ours.get_inputs()[0].name: x.numpy()}
    with torch.no_grad():
        difference = (torch.from_numpy(ours.run(None, feed)[0]) - subject(x)).abs().max().item()
        times = interleaved_medians({
            "compiled": lambda: subject(x),
            "onnxruntime": lambda: ours.run(None, feed),
            "nn_onnxruntime": lambda: theirs.run(None, {theirs.get_inputs()[0].name: x.numpy()}),
        }, torch.device("cpu"), warmups, repeats)
    return {"name": case.name, "case": case.as_dict(), **{f"{k}_ms": round(1e3 * v, 2) for k, v in times.items()},
            "ort_vs_compiled": round(times["onnxruntime"] / times["compiled"], 3),
            "ort_vs_nn_ort": round(times["onnxruntime"] / times["nn_onnxruntime"], 3),
            "max_abs_difference": difference}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.onnx_runtime", description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="quick", choices=SETS,
                        help="quick: a few layers in minutes on 2 cores; layers: the U-Net's and the operators'")
    parser.add_argument("--size", type=int, nargs=2, default=(128, 256), metavar=("H", "W"),
                        help="input size of the 'layers' set (default 128 256)")
    parser.add_argument("--batch", type=int, default=1, help="batch of the 'layers' set (default 1)")
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="for torch and onnxruntime alike (default: torch's)")
    parser.add_argument("--out", type=Path, default=results.RESULTS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        import onnxruntime
        import onnxscript  # noqa: F401  (the exporter's)
    except ImportError as error:
        parser.exit(2, f"{parser.prog}: error: {error.name} is not installed (pip install -e '.[onnx]')\n")
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" notes
    rows = []
    print(f"{'case':44s} {'compiled':>9s} {'ort':>9s} {'nn ort':>9s}  ort/compiled  ort/nn-ort  max|diff|")
    for case in case_list(args.set, *args.size, args.batch):
        row = measure(case, args.warmups, args.repeats)
        rows.append(row)
        print(f"{row['name']:44s} {row['compiled_ms']:9.2f} {row['onnxruntime_ms']:9.2f} "
              f"{row['nn_onnxruntime_ms']:9.2f}  {row['ort_vs_compiled']:12.2f}  {row['ort_vs_nn_ort']:10.2f}  "
              f"{row['max_abs_difference']:.1e}", flush=True)
    report = {"command": "python -m benchmarks.onnx_runtime " + " ".join(argv or []),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
              "method": (f"medians of {args.repeats} interleaved rounds after {args.warmups} untimed ones; "
                         "float32 on CPU, no grad; onnxruntime with as many intra-op threads as torch, not spinning"),
              "cases": rows}
    results.write_timestamped(report, args.out, f"onnx-runtime-cpu-{args.set}")
    return report


if __name__ == "__main__":
    main()
