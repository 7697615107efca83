"""A quick tour of equiconv on one panorama: edges, the seam, the sampling pattern and timing
(what ``panosis-showcase`` and ``make demo`` show); CPU only, well under two minutes on two
cores."""
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from PIL import Image

import equiconv
from panosis_models.plots import figure, save

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared/data/cvrg-pano-sample/image.png"
SIZE = (256, 512)
WORLD = (-180, 180, -90, 90)  # imshow extent of a full panorama, in degrees


def lat_lon(rows, cols, height, width):
    """Pixel coordinates (centres at integers) to degrees, longitude wrapped into [-180, 180)."""
    lat = 90.0 - (np.asarray(rows) + 0.5) * 180.0 / height
    lon = -180.0 + (np.asarray(cols) + 0.5) * 360.0 / width
    return lat, (lon + 180.0) % 360.0 - 180.0


def synthetic_pattern(height, width):
    """A 15-degree lat/lon checkerboard plus circles of one size on the sphere: their growing
    stretch towards the pole shows the distortion of the projection."""
    lat, lon = (torch.tensor(np.radians(a)) for a in lat_lon(np.arange(height)[:, None],
                                                             np.arange(width)[None, :], height, width))
    cells = (torch.floor(lat / np.radians(15)) + torch.floor(lon / np.radians(15))) % 2
    xyz = torch.stack(torch.broadcast_tensors(lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()))
    rings = torch.zeros_like(cells)
    for a, b in np.radians([(0, -120), (30, -40), (60, 40), (75, 120)]):
        centre = torch.tensor([np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a)])[:, None, None]
        angle = torch.rad2deg(torch.acos((xyz * centre).sum(0).clamp(-1, 1)))
        rings = torch.maximum(rings, ((angle - 12).abs() < 1.5).double())
    image = torch.stack([0.25 + 0.5 * cells, 0.3 + 0.4 * cells, 0.6 - 0.3 * cells])
    return (image * (1 - rings) + torch.tensor([1.0, 0.2, 0.1])[:, None, None] * rings)[None].float()


def load_panorama(path):
    """The panorama as (1, 3, 256, 512) float32 in [0, 1]; the synthetic pattern if it is missing."""
    if Path(path).is_file():
        array = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
        image, source = torch.from_numpy(array).permute(2, 0, 1)[None], str(path)
    else:
        image, source = synthetic_pattern(*SIZE), "synthetic lat/lon test pattern (no sample image)"
    image = F.interpolate(image, size=SIZE, mode="bilinear", antialias=True, align_corners=False)
    return image.clamp(0, 1).contiguous(), source


def sobel_pair():
    """The same fixed Sobel x/y kernels, per colour channel (groups=3), in an nn.Conv2d and an
    EquiConv2d, so any difference comes from where the taps sample."""
    gx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8
    weight = torch.stack([gx, gx.t()])[:, None].repeat(3, 1, 1, 1)  # (6, 1, 3, 3): gx, gy per channel
    flat = torch.nn.Conv2d(3, 6, 3, padding=1, groups=3, bias=False)
    sphere = equiconv.EquiConv2d(3, 6, 3, padding=1, groups=3, bias=False)
    with torch.no_grad():
        flat.weight.copy_(weight)
        sphere.weight.copy_(weight)
    return flat, sphere


def edge_figures(image, out_dir):
    """Edges on the flat image vs on the sphere, and a close-up of the +-180 degree seam."""
    flat, sphere = sobel_pair()
    with torch.no_grad():
        outs = {"nn.Conv2d (flat, zero padding)": flat(image), "EquiConv2d (on the sphere)": sphere(image)}
    # gradient magnitude per colour channel, then averaged: one grey level per pixel
    mags = {name: out[0].view(3, 2, *out.shape[-2:]).pow(2).sum(1).sqrt().mean(0).numpy()
            for name, out in outs.items()}
    vmax = float(np.percentile(np.concatenate([m.ravel() for m in mags.values()]), 99.5))
    fig, axes = figure((8, 12.5), 3, 1)
    axes[0].imshow(image[0].permute(1, 2, 0).numpy(), extent=WORLD)
    axes[0].set_title(f"input panorama ({SIZE[0]} x {SIZE[1]})")
    for ax, (name, mag) in zip(axes[1:], mags.items()):
        ax.imshow(mag, cmap="gray", vmin=0, vmax=vmax, extent=WORLD)
        ax.set_title(f"Sobel magnitude, {name}")
    for ax in axes:
        ax.set(xlabel="longitude (deg)", ylabel="latitude (deg)", xticks=range(-180, 181, 60),
               yticks=range(-90, 91, 45))
    save(fig, out_dir / "edges.png")
    half = image.shape[-1] // 2
    fig, axes = figure((10, 5), 1, 2)
    for ax, (name, mag) in zip(axes, mags.items()):  # rolled so that the seam sits in the middle
        ax.imshow(np.roll(mag, half, axis=1)[:, half - 64:half + 64], cmap="gray", vmin=0, vmax=vmax,
                  extent=(135, 225, -90, 90), aspect="auto")
        ax.axvline(180, color="tab:red", ls="--", lw=1)
        ax.set(title=f"{name.split(' (')[0]}: the +-180 deg seam (dashed)", ylabel="latitude (deg)",
               xlabel="longitude (deg, unwrapped)")
    save(fig, out_dir / "seam.png")
    # On a panorama columns 0 and W-1 are neighbours: a continuous result keeps them as close as
    # any two neighbouring columns. Compared on the raw (signed) gx, gy outputs.
    print("edges (Sobel per channel): mean |output column 0 - column W-1|")
    for name, out in outs.items():
        seam, inner = (out[..., 0] - out[..., -1]).abs().mean(), (out[..., 1:] - out[..., :-1]).abs().mean()
        print(f"  {name:32s} seam {seam:.4f}   (neighbouring columns elsewhere: {inner:.4f})")
    return ["edges.png", "seam.png"]


def outline(lat, lon):
    """A 3x3 kernel's border taps in order, the path cut where it crosses the +-180 line."""
    xs, ys = [], []
    for k, (i, j) in enumerate([(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0)]):
        if k and abs(lon[i, j] - xs[-1]) > 180:
            xs.append(np.nan), ys.append(np.nan)
        xs.append(lon[i, j]), ys.append(lat[i, j])
    return xs, ys


def sampling_figure(image, out_dir, height=64, width=128, dilation=4):
    """Where a dilated 3x3 kernel at column W/2 reads, on the sphere vs on the flat grid."""
    rows, cols = equiconv.sampling_grid(height, width, 3, padding=dilation, dilation=dilation)
    q, centres = width // 2, 90.0 - (np.arange(height) + 0.5) * 180.0 / height
    picks = sorted({int(np.abs(centres - t).argmin()) for t in (0, 30, 60, 80, 90)}, reverse=True)
    small = F.interpolate(image, size=(height, width), mode="bilinear", antialias=True)
    fig, ax = figure((11, 5.5))
    ax.imshow(small[0].permute(1, 2, 0).numpy(), extent=WORLD, alpha=0.45, aspect="auto")
    ax.axhspan(90, 110, color="0.85")
    ax.text(-175, 96, "outside the image (nn.Conv2d reads zeros here)", fontsize=8, va="center")
    grid, spans = (np.arange(3) - 1) * dilation + np.zeros((3, 3)), []
    for k, r in enumerate(picks):
        colour = colormaps["plasma"](0.85 * k / (len(picks) - 1))
        lat, lon = lat_lon(rows[r].numpy(), cols[r].numpy() + q, height, width)
        spans.append(f"{lon[1, 2] - lon[1, 0]:.0f}")  # the middle row of taps never wraps at W/2
        ax.plot(*outline(lat, lon), "-", color=colour, lw=1.2)
        ax.plot(lon.ravel(), lat.ravel(), "o", color=colour, ms=5,
                label=f"EquiConv2d, row {r} ({centres[r]:.1f} deg)")
        flat_lat, flat_lon = lat_lon(r + grid.T, q + grid, height, width)
        ax.plot(flat_lon.ravel(), flat_lat.ravel(), "x", color=colour, ms=6, mew=1.5)
    ax.plot([], [], "kx", label="nn.Conv2d taps (same rows)")
    ax.set(xlim=(-180, 180), ylim=(-20, 102), xticks=range(-180, 181, 30), yticks=range(-15, 91, 15),
           xlabel="longitude (deg)", ylabel="latitude (deg)",
           title=f"3x3 taps, dilation {dilation}, on a {height}x{width} panorama, output column {q}")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    save(fig, out_dir / "sampling_pattern.png")
    print(f"sampling pattern: the middle row of taps at rows {picks} spans {', '.join(spans)} deg of "
          f"longitude (nn.Conv2d: {2 * dilation * 360 / width:.1f} deg at every row)")
    return ["sampling_pattern.png"]


TIMED_SHAPE = dict(batch=4, channels=64, height=128, width=256)  # the first case of `python -m benchmarks --quick`


def timing(out_dir, warmups=2, repeats=7):
    """EquiConv2d against nn.Conv2d with the same weights on one U-Net-like layer: forward and
    forward+backward, the two layers alternating within each round so that a slow moment of the
    machine hits both (``python -m benchmarks`` measures the full set the same way)."""
    s = TIMED_SHAPE
    flat = torch.nn.Conv2d(s["channels"], s["channels"], 3, padding=1)
    layers = {"conv2d": flat, "equiconv": equiconv.EquiConv2d.from_conv2d(flat)}
    x = torch.randn(s["batch"], s["channels"], s["height"], s["width"], requires_grad=True)
    wrt = (x, flat.weight, flat.bias)  # the two layers share their parameters
    modes = {"forward": lambda layer: torch.no_grad()(layer)(x),
             "forward_backward": lambda layer: torch.autograd.grad(layer(x).sum(), wrt)}
    seconds = {(mode, name): [] for mode in modes for name in layers}
    for round_ in range(warmups + repeats):
        for (mode, name), samples in seconds.items():
            start = time.perf_counter()
            modes[mode](layers[name])
            if round_ >= warmups:
                samples.append(time.perf_counter() - start)
    ms = {key: 1e3 * statistics.median(samples) for key, samples in seconds.items()}
    print(f"timing: batch {s['batch']}, {s['channels']}->{s['channels']}, 3x3, {s['height']}x{s['width']}, "
          f"float32, {torch.get_num_threads()} threads, median of {repeats}")
    print(f"  {'':18s}{'nn.Conv2d ms':>14s}{'EquiConv2d ms':>15s}{'ratio':>8s}")
    report = {"case": s, "repeats": repeats}
    for mode in modes:
        conv2d, equi = ms[(mode, "conv2d")], ms[(mode, "equiconv")]
        print(f"  {mode:18s}{conv2d:14.1f}{equi:15.1f}{equi / conv2d:7.2f}x")
        report[mode] = {"conv2d_ms": round(conv2d, 3), "equiconv_ms": round(equi, 3), "ratio": round(equi / conv2d, 3)}
    report.update(device=platform.processor() or platform.machine(), torch=torch.__version__,
                  threads=torch.get_num_threads(), date=datetime.datetime.now().isoformat(timespec="seconds"))
    (out_dir / "timing.json").write_text(json.dumps(report, indent=2) + "\n")
    return ["timing.json"]


def tour(image_path, out_dir) -> list:
    """The figures and the timing of the panorama at ``image_path`` (the synthetic test pattern
    if there is no such file) under ``out_dir``; the paths written."""
    image, source = load_panorama(image_path)
    print(f"panorama: {source}, resized to {SIZE[0]}x{SIZE[1]}")
    written = edge_figures(image, out_dir) + sampling_figure(image, out_dir) + timing(out_dir)
    return [out_dir / name for name in written]
