"""Whole-panorama resampling timed against pytorch360convert, the PyTorch peer users reach for:
``python -m benchmarks.sphere_resampling [--device cuda]``. Each case runs both on the same
panorama, interleaved (``timing.interleaved_medians``), and reports milliseconds and the ratio
ours / theirs; a JSON file goes to benchmarks/results/. The two differ in convention (theirs
samples half a pixel off the Geometry contract's pixel centres), not in work."""
import argparse
import platform
import time
from pathlib import Path

import torch

from benchmarks import results
from benchmarks.timing import interleaved_medians
from equiconv.resampling import from_cubemap, rotate, to_cubemap, to_perspective


def cases(pano: torch.Tensor, p3) -> dict:
    """{case: (ours, theirs)} zero-argument callables on a (1, 3, H, W) panorama."""
    height, width = pano.shape[-2:]
    side = height // 2
    faces = to_cubemap(pano, side)
    their_faces = list(faces[0].unbind(0))
    return {
        "rotate (yaw 30, pitch 20, roll 10)": (lambda: rotate(pano, yaw=30.0, pitch=20.0, roll=10.0),
                                                lambda: p3.e2e(pano[0], 10.0, 30.0, 20.0)),
        "to_perspective 90 deg 256x256": (lambda: to_perspective(pano, 90.0, (256, 256), yaw=30.0, pitch=20.0),
                                          lambda: p3.e2p(pano[0], 90.0, 30.0, 20.0, (256, 256))),
        f"to_cubemap {side}": (lambda: to_cubemap(pano, side), lambda: p3.e2c(pano[0], side, cube_format="list")),
        f"from_cubemap {height}x{width}": (lambda: from_cubemap(faces, height, width),
                                            lambda: p3.c2e(their_faces, height, width, cube_format="list")),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sphere_resampling", description=__doc__)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--size", type=int, nargs=2, default=(512, 1024), metavar=("H", "W"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=results.RESULTS)
    args = parser.parse_args(argv)
    try:
        import pytorch360convert as p3
    except ImportError:
        parser.exit(2, "python -m benchmarks.sphere_resampling: error: pytorch360convert is not installed "
                       "(pip install --no-deps pytorch360convert)\n")
    device = torch.device(args.device)
    pano = torch.rand(1, 3, *args.size, device=device)
    rows = {}
    with torch.no_grad():
        for name, (ours, theirs) in cases(pano, p3).items():
            times = interleaved_medians({"equiconv": ours, "pytorch360convert": theirs}, device, 2, args.repeats)
            rows[name] = {"equiconv_ms": round(1e3 * times["equiconv"], 2),
                          "pytorch360convert_ms": round(1e3 * times["pytorch360convert"], 2),
                          "ratio": round(times["equiconv"] / times["pytorch360convert"], 3)}
            print(f"{name:40s} equiconv {rows[name]['equiconv_ms']:9.2f} ms  pytorch360convert "
                  f"{rows[name]['pytorch360convert_ms']:9.2f} ms  ratio {rows[name]['ratio']:.2f}")
    report = {"command": "python -m benchmarks.sphere_resampling " + " ".join(argv or []),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.processor() or
              platform.machine(), "threads": torch.get_num_threads(), "device": str(device),
              "torch": torch.__version__, "pytorch360convert": getattr(p3, "__version__", "?"),
              "size": list(args.size), "cases": rows}
    results.write_timestamped(report, args.out, f"sphere-resampling-{args.device}")
    return report


if __name__ == "__main__":
    main()
