"""python -m benchmarks: EquiConv2d against nn.Conv2d on identical shapes, forward and
forward+backward, as ratios of interleaved medians; results as JSON in benchmarks/results/."""
import argparse
import datetime
import json
import subprocess
from pathlib import Path

import torch
from tqdm import tqdm

import equiconv
from benchmarks import cases as case_sets
from benchmarks.timing import device_name, measure

RESULTS = Path(__file__).resolve().parent / "results"


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=Path(__file__).resolve().parent).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--quick", action="store_true", help="the core issue's single reference shape")
    parser.add_argument("--size", default="128x256", help="U-Net input size HxW (default 128x256)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory of the results file")
    args = parser.parse_args(argv)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    height, width = (int(v) for v in args.size.lower().split("x"))
    cases = case_sets.quick() if args.quick else case_sets.unet_layers(height, width, args.batch)
    rows = [measure(c, device, dtype, args.warmups, args.repeats) for c in tqdm(cases, desc="cases")]
    now = datetime.datetime.now(datetime.timezone.utc)
    report = {
        "device": device_name(device), "device_type": device.type, "dtype": args.dtype,
        "torch": torch.__version__, "cuda": torch.version.cuda, "threads": torch.get_num_threads(),
        "equiconv": equiconv.__version__, "commit": commit(), "date": now.isoformat(timespec="seconds"),
        "method": f"interleaved medians of {args.repeats} after {args.warmups} warm-ups",
        "results": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{device.type}-{args.dtype}-{'quick' if args.quick else args.size}-{now:%Y%m%d}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{'case':40s}{'fwd ratio':>10s}{'fwd+bwd ratio':>15s}")
    for r in rows:
        c = r["case"]
        name = f"b{c['batch']} {c['in_channels']}->{c['out_channels']} {c['height']}x{c['width']} k{c['kernel_size']}"
        print(f"{name:40s}{r['forward']['ratio']:10.2f}{r['forward_backward']['ratio']:15.2f}")
    print(f"written: {path}")
    return report


if __name__ == "__main__":
    main()
