"""
Where a kernel's taps land
==========================

An :class:`~equiconv.EquiConv2d` kernel is laid on the plane tangent to the sphere at its centre,
and each tap reads the equirectangular image where it lands. :func:`equiconv.sampling_grid` gives
those positions in input pixels, without running a convolution. This page draws one 3×3 kernel,
dilated by 2, at three places of a 24×48 whole-sphere image (7.5° pixels): at the equator, near the
north pole and across the ±180° seam, beside the taps ``nn.Conv2d`` would read.

Run as a script with a path (``python plot_sampling_footprint.py footprint.png``), it also saves
the figure there.
"""
import sys

import matplotlib.pyplot as plt
import torch

import equiconv

HEIGHT, WIDTH = 24, 48
KERNEL, DILATION, PADDING = 3, 2, 2  # 'same' output grid: output (r, q) is centred on pixel (r, q)
rows, cols = equiconv.sampling_grid(HEIGHT, WIDTH, KERNEL, padding=PADDING, dilation=DILATION)
print(f"sampling_grid: rows and cols of shape {tuple(rows.shape)} (output rows, kernel rows, kernel columns)")

# %%
# The three kernels
# -----------------
# ``rows[r]`` and ``cols[r]`` hold the taps of output row ``r``; the columns are relative to the
# output column ``q`` (the kernel has the same shape all along a row of latitude).


def latitude(row):
    return 90.0 - (row + 0.5) * 180.0 / HEIGHT


def taps(r, q):
    """(rows, absolute unwrapped columns) of the kernel centred on output (r, q)."""
    return rows[r], cols[r] + q


def conv2d_taps(r, q):
    """Where nn.Conv2d with the same kernel and dilation reads: a square on the pixel grid."""
    offsets = (torch.arange(KERNEL, dtype=torch.float64) - (KERNEL - 1) / 2) * DILATION
    return (r + offsets[:, None]).expand(KERNEL, KERNEL), (q + offsets[None, :]).expand(KERNEL, KERNEL)


KERNELS = {"equator": (11, 16, "tab:blue"), "near the pole": (2, 34, "tab:red"),
           "across the seam": (7, 1, "tab:green")}
for name, (r, q, _) in KERNELS.items():
    y, x = taps(r, q)
    print(f"{name:16s} centre at latitude {latitude(r):6.2f} deg, column {q}: kernel spans "
          f"{float(x[0].max() - x[0].min()):5.2f} columns in its top row, "
          f"{float(x[-1].max() - x[-1].min()):5.2f} in its bottom row")

# %%
# What is checked here: near the equator the taps lie within an eighth of a pixel of
# ``nn.Conv2d``'s (with these large pixels; the gap shrinks with the pixel size); near the pole
# the top row is several times wider (the circles of latitude are short there, so a fixed
# distance on the sphere covers many columns); across the seam some taps lie left of column 0
# and read the right edge of the image.

y, x = taps(*KERNELS["equator"][:2])
y0, x0 = conv2d_taps(*KERNELS["equator"][:2])
print(f"equator: largest distance to nn.Conv2d's taps {float(torch.hypot(y - y0, x - x0).max()):.3f} px")
assert torch.hypot(y - y0, x - x0).max() < 0.125

y, x = taps(*KERNELS["near the pole"][:2])
spread = float(x[0].max() - x[0].min()) / ((KERNEL - 1) * DILATION)
print(f"near the pole: the top row spans {spread:.1f} times nn.Conv2d's width")
assert spread > 4

y, x = taps(*KERNELS["across the seam"][:2])
assert (x < -0.5).any() and (x > -0.5).any()  # split by the seam: some taps wrap to the right edge

# %%
# The operator reads what the grid says: an image that is zero but for one pixel at the right
# edge, under a tap that lies left of column 0, reaches the output of the seam kernel through
# :class:`~equiconv.EquiConv2d` (all-ones weights), while ``nn.Conv2d`` reads zero padding there.

r, q, _ = KERNELS["across the seam"]
i, j = 1, 0  # the kernel's middle row, left column
pixel = (round(float(rows[r, i, j])), round(float(cols[r, i, j])) + q)
image = torch.zeros(1, 1, HEIGHT, WIDTH)
image[0, 0, pixel[0], pixel[1] % WIDTH] = 1.0
equi = equiconv.EquiConv2d(1, 1, KERNEL, padding=PADDING, dilation=DILATION, bias=False)
flat = torch.nn.Conv2d(1, 1, KERNEL, padding=PADDING, dilation=DILATION, bias=False)
with torch.no_grad():
    equi.weight.fill_(1.0)
    flat.weight.fill_(1.0)
    read_equi, read_flat = float(equi(image)[0, 0, r, q]), float(flat(image)[0, 0, r, q])
print(f"pixel {pixel[0]}, column {pixel[1] % WIDTH} (tap at column {pixel[1]}): "
      f"EquiConv2d reads {read_equi:.3f}, nn.Conv2d reads {read_flat:.3f}")
assert read_equi > 0.5 and read_flat == 0.0

# %%
# The picture
# -----------
# Pixel boundaries in grey; each kernel's taps as dots joined along its rows and columns, drawn
# where they read (a tap beyond the seam at its wrapped column); hollow squares: ``nn.Conv2d``'s
# taps for the same output pixel.

fig, ax = plt.subplots(figsize=(9, 4.9), layout="constrained")
for edge in range(WIDTH + 1):
    ax.axvline(edge - 0.5, color="0.88", lw=0.6, zorder=0)
for edge in range(HEIGHT + 1):
    ax.axhline(edge - 0.5, color="0.88", lw=0.6, zorder=0)
ax.axhline(HEIGHT / 2 - 0.5, color="0.6", lw=0.8, zorder=0)

for name, (r, q, colour) in KERNELS.items():
    y, x = taps(r, q)
    for shift in (-WIDTH, 0, WIDTH):  # the copies a wrapped kernel shows on either side
        for a, b in ((x, y), (x.T, y.T)):
            for line_x, line_y in zip(a, b):
                ax.plot(line_x + shift, line_y, color=colour, lw=1.2, alpha=0.7)
        ax.plot(x.flatten() + shift, y.flatten(), "o", color=colour, ms=5,
                label=name if shift == 0 else None)
    y0, x0 = conv2d_taps(r, q)
    ax.plot(x0.flatten(), y0.flatten(), "s", mfc="none", mec=colour, ms=7, mew=1.0, alpha=0.8)

ax.set_xlim(-0.5, WIDTH - 0.5)
ax.set_ylim(HEIGHT - 0.5, -0.5)
ax.set_aspect("equal")
ax.set_xticks([(lon + 180) / 360 * WIDTH - 0.5 for lon in range(-180, 181, 90)],
              [f"{lon}°" for lon in range(-180, 181, 90)])
ax.set_yticks([(90 - lat) / 180 * HEIGHT - 0.5 for lat in range(90, -91, -45)],
              [f"{lat}°" for lat in range(90, -91, -45)])
ax.set_xlabel("longitude")
ax.set_ylabel("latitude")
ax.set_title(f"EquiConv2d taps, {KERNEL}×{KERNEL} kernel, dilation {DILATION}, on a {HEIGHT}×{WIDTH} "
             "panorama (squares: nn.Conv2d)", fontsize=10)
ax.legend(loc="lower right", fontsize=8, framealpha=0.9)

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=90)
    print(f"saved {sys.argv[1]}")
plt.show()
