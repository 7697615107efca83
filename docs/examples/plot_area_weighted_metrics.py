"""
Area-weighted accuracy and IoU
==============================

An equirectangular image gives every row of latitude the same number of pixels, but a pixel at
latitude φ covers cos φ times the sphere of a pixel at the equator. Counting pixels therefore
weighs the rows near the poles far beyond the part of the scene they show.
:func:`equiconv.solid_angle` gives each row's pixel solid angle in steradians; weighting by it
measures a prediction over the sphere instead. This page scores two predictions of a toy label
map that are wrong on the same number of pixels, one near a pole, one near the equator.
"""
import math

import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
import torch

import equiconv

HEIGHT, WIDTH = 32, 64
CLASSES = ["ceiling", "wall", "floor", "door"]
area = equiconv.solid_angle(HEIGHT, WIDTH)  # (H, 1) steradians per pixel of each row
print(f"whole image: {float(area.sum() * WIDTH):.6f} sr (4 pi = {4 * math.pi:.6f})")
assert math.isclose(float(area.sum() * WIDTH), 4 * math.pi, rel_tol=1e-12)

# %%
# The top quarter of the rows (latitude above 45°) holds a quarter of the pixels but, by the
# area of a spherical cap, only (1 − sin 45°) / 2 of the sphere:

top = HEIGHT // 4
cap = float(area[:top].sum() / area.sum())
print(f"rows above 45 deg: {top / HEIGHT:.1%} of the pixels, {cap:.1%} of the sphere")
assert math.isclose(cap, (1 - math.sin(math.radians(45))) / 2, rel_tol=1e-12)

# %%
# A toy scene and two predictions
# -------------------------------
# Ceiling above 50°, floor below −40°, walls between, and a door. Prediction A labels the two
# rows nearest the north pole as wall; prediction B labels a band of wall near the equator as
# door. Both are wrong on 128 of the 2048 pixels.

latitude = 90.0 - (torch.arange(HEIGHT) + 0.5) * 180.0 / HEIGHT
labels = torch.ones(HEIGHT, WIDTH, dtype=torch.long)  # wall
labels[latitude > 50] = 0
labels[latitude < -40] = 2
labels[(latitude < 10) & (latitude > -40), 10:18] = 3

prediction_a = labels.clone()
prediction_a[:2] = 1
prediction_b = labels.clone()
prediction_b[14:18, 30:62] = 3
for name, prediction in (("A", prediction_a), ("B", prediction_b)):
    print(f"prediction {name}: {int((prediction != labels).sum())} wrong pixels")
assert (prediction_a != labels).sum() == (prediction_b != labels).sum() == 128


def confusion(labels, prediction, weight):
    """confusion[true, predicted]: the summed weight of the pixels of each pair of classes."""
    pairs = labels.flatten() * len(CLASSES) + prediction.flatten()
    counts = torch.bincount(pairs, weights=weight.expand(HEIGHT, WIDTH).flatten().double(),
                            minlength=len(CLASSES) ** 2)
    return counts.reshape(len(CLASSES), len(CLASSES))


def scores(labels, prediction, weight):
    """(accuracy, mean IoU over the classes) under a per-pixel weight."""
    table = confusion(labels, prediction, weight)
    hits = table.diagonal()
    iou = hits / (table.sum(0) + table.sum(1) - hits)
    return float(hits.sum() / table.sum()), float(iou.mean())


# %%
# Scores
# ------
# Per pixel, the two predictions are equally accurate. Over the sphere, A's errors cover a
# tenth of the area B's cover, and its scores say so.

results = {}
for name, prediction in (("A", prediction_a), ("B", prediction_b)):
    for weighting, weight in (("per pixel", torch.ones(HEIGHT, 1)), ("by area", area)):
        results[name, weighting] = scores(labels, prediction, weight)
        accuracy, miou = results[name, weighting]
        print(f"prediction {name}, {weighting:9s}: accuracy {accuracy:.2%}, mean IoU {miou:.2%}")

assert results["A", "per pixel"][0] == results["B", "per pixel"][0]
assert results["A", "by area"][0] > 0.99 > results["B", "by area"][0]
share_a = float((prediction_a != labels).double().mul(area).sum() / (area.sum() * WIDTH))
share_b = float((prediction_b != labels).double().mul(area).sum() / (area.sum() * WIDTH))
print(f"sphere covered by the errors: A {share_a:.2%}, B {share_b:.2%}")
assert share_b > 8 * share_a

# %%
# The same weighting serves a loss: multiply a per-pixel loss by ``area`` and divide by
# ``area.sum() * W``.

fig, axes = plt.subplots(2, 2, figsize=(9, 5.6), layout="constrained")
axes = axes.flatten()
extent = (-180, 180, -90, 90)
axes[0].imshow(labels, cmap="Pastel1", extent=extent, interpolation="nearest", vmin=0, vmax=8)
for index, name in enumerate(CLASSES):
    rows, cols = (labels == index).nonzero(as_tuple=True)
    lon, lat = float(cols.float().mean()) * 360 / WIDTH - 180, 90 - float(rows.float().mean()) * 180 / HEIGHT
    axes[0].text(lon, lat, name, ha="center", va="center", fontsize=8)
axes[0].set_title("labels", fontsize=10)

errors = torch.zeros(HEIGHT, WIDTH)
errors[prediction_a != labels] = 1
errors[prediction_b != labels] = 2
axes[1].imshow(errors, cmap=ListedColormap(["white", "tab:red", "tab:blue"]), extent=extent,
               interpolation="nearest", vmin=0, vmax=2)
axes[1].set_title("wrong pixels: A (red), B (blue)", fontsize=10)
for ax in axes[:2]:
    ax.set_xticks([-180, -90, 0, 90, 180])
    ax.set_yticks([-90, -45, 0, 45, 90])
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")

axes[2].plot(latitude, torch.full((HEIGHT,), 100 / HEIGHT), "o-", ms=3, color="0.5",
             label="share of the pixels")
axes[2].plot(latitude, 100 * area[:, 0] / area.sum(), "o-", ms=3, color="tab:blue",
             label="share of the sphere")
axes[2].set_xlabel("latitude of the row (°)")
axes[2].set_ylabel("% of the image")
axes[2].set_xticks([-90, -45, 0, 45, 90])
axes[2].legend(fontsize=8)
axes[2].set_title("what one row holds", fontsize=10)

positions = torch.arange(2)
for offset, (weighting, colour) in enumerate((("per pixel", "0.6"), ("by area", "tab:blue"))):
    axes[3].bar(positions + 0.38 * offset, [100 * results[name, weighting][1] for name in "AB"], 0.36,
                label=weighting, color=colour)
axes[3].set_xticks(positions + 0.19, ["prediction A", "prediction B"])
axes[3].set_ylim(70, 100)
axes[3].set_ylabel("mean IoU (%)")
axes[3].legend(fontsize=8, loc="upper right")
axes[3].set_title("scores", fontsize=10)
plt.show()
