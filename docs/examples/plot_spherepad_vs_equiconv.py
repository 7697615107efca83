"""
``SpherePad2d`` + ``nn.Conv2d`` against ``EquiConv2d``
=======================================================

Two ways to convolve a panorama without a seam:

- :class:`~equiconv.SpherePad2d` followed by ``nn.Conv2d(padding=0)``: the image is padded with
  what lies around it on the sphere (columns wrap, rows continue across the poles), then a
  standard kernel reads a square of pixels everywhere;
- :class:`~equiconv.EquiConv2d`: the same padding rules, and each kernel laid on the sphere's
  tangent plane, so towards the poles it widens in longitude with the sphere.

With the same weights, the two agree at the equator and part towards the poles. This page
measures where, row by row, and what each costs.
"""
import time

import matplotlib.pyplot as plt
import torch
from torch import nn

import equiconv

torch.manual_seed(0)
HEIGHT, WIDTH, CHANNELS = 64, 128, 4

equi = equiconv.EquiConv2d(CHANNELS, 8, 3, padding=1, bias=False)
padded = nn.Sequential(equiconv.SpherePad2d(1), nn.Conv2d(CHANNELS, 8, 3, padding=0, bias=False))
padded[1].load_state_dict(equi.state_dict())  # the same parameter names and shapes

# A smooth panorama: coarse noise resized with the sphere's bilinear interpolation.
coarse = torch.randn(1, CHANNELS, 8, 16)
x = equiconv.EquiUpsample(size=(HEIGHT, WIDTH), mode="bilinear")(coarse)

with torch.no_grad():
    a, b = equi(x), padded(x)
assert a.shape == b.shape == (1, 8, HEIGHT, WIDTH)

# %%
# Row by row
# ----------
# The mean absolute difference of each output row, over the mean absolute output.

scale = a.abs().mean()
per_row = ((a - b).abs().mean(dim=(0, 1, 3)) / scale).double()
latitude = 90.0 - (torch.arange(HEIGHT, dtype=torch.float64) + 0.5) * 180.0 / HEIGHT
equator = latitude.abs() < 5
polar = latitude.abs() > 80
print(f"{HEIGHT}x{WIDTH} image, 3x3 kernel, {180 / HEIGHT:.2f} deg pixels")
print(f"relative difference within 5 deg of the equator: at most {float(per_row[equator].max()):.1e}")
print(f"relative difference beyond 80 deg of latitude:    at least {float(per_row[polar].min()):.2f}")
assert per_row[equator].max() < 2e-3 and per_row[polar].min() > 0.3

# %%
# Near the equator the tangent-plane taps lie within a hundredth of a pixel of the grid
# (:func:`equiconv.sampling_grid` gives their positions), so both read almost the same pixels;
# near the poles a 3×3 square of pixels covers a narrow sliver of the sphere, while
# ``EquiConv2d`` reads a patch of the same size on the sphere as at the equator. Which one a
# network needs depends on how much of its content lies near the poles.

rows, cols = equiconv.sampling_grid(HEIGHT, WIDTH, 3, padding=1)
steps = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)  # nn.Conv2d's taps, relative to the centre
on_grid_rows = torch.arange(HEIGHT, dtype=torch.float64)[:, None, None] + steps[:, None]
on_grid_cols = steps
off_grid = torch.hypot(rows - on_grid_rows, cols - on_grid_cols).amax(dim=(1, 2))
print(f"taps within 5 deg of the equator: at most {float(off_grid[equator].max()):.3f} px from nn.Conv2d's")
assert off_grid[equator].max() < 0.05

fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
ax.semilogy(latitude, per_row, "o-", ms=3)
ax.set_xlabel("latitude of the output row (°)")
ax.set_ylabel("mean |difference| / mean |output|")
ax.set_title("SpherePad2d + Conv2d vs EquiConv2d, per row", fontsize=10)
ax.set_xticks(range(-90, 91, 30))
ax.invert_xaxis()
plt.show()

# %%
# The cost
# --------
# The padded standard convolution runs torch's own convolution (oneDNN on CPU) on a padded copy
# of the input; ``EquiConv2d`` runs equiconv's compiled operator. Forward time on a 1×16×128×256
# input, 16 output channels: the median of 7 rounds in which the two alternate, after a warm-up
# call (on the machine that built this page; :doc:`/benchmarks` has the full suite).

big = torch.randn(1, 16, 128, 256)
equi_big = equiconv.EquiConv2d(16, 16, 3, padding=1)
padded_big = nn.Sequential(equiconv.SpherePad2d(1), nn.Conv2d(16, 16, 3))
layers = {"SpherePad2d + Conv2d": padded_big, "EquiConv2d": equi_big}
times = {name: [] for name in layers}
with torch.no_grad():
    for layer in layers.values():
        layer(big)  # warm-up: the sampling plan is built and cached on the first call
    for _ in range(7):
        for name, layer in layers.items():
            start = time.perf_counter()
            layer(big)
            times[name].append(time.perf_counter() - start)
timings = {name: float(torch.tensor(values).median()) for name, values in times.items()}
for name, seconds in timings.items():
    print(f"{name:22s} {seconds * 1e3:7.2f} ms")
print(f"EquiConv2d / (SpherePad2d + Conv2d): {timings['EquiConv2d'] / timings['SpherePad2d + Conv2d']:.2f}")

fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
ax.bar([name.replace(" + ", "\n+ ") for name in timings], [t * 1e3 for t in timings.values()],
          color=["tab:orange", "tab:blue"])
ax.set_ylabel("forward time (ms)")
ax.set_title("1×16×128×256, 16 out, CPU", fontsize=10)
plt.show()
