"""
Converting a U-Net with ``equiconv.convert``
============================================

:func:`equiconv.convert` replaces, in place, the layers of a standard network that read a
neighbourhood by their spherical counterparts, keeping their parameters. This page converts a
small U-Net-like network and checks what a panorama needs from it: turning the panorama about
its vertical axis (a roll of the columns) turns the output with it, with nothing special at the
±180° seam. The standard network fails that test at the seam; the converted one passes it.
"""
import copy

import matplotlib.pyplot as plt
import torch
from torch import nn

import equiconv


class TinyUNet(nn.Module):
    """Two levels: a double 3x3 convolution, max pooling, a transposed convolution back up,
    a skip connection, and a 1x1 classifier."""

    def __init__(self, channels=3, classes=4, width=8):
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.down = nn.MaxPool2d(2)
        self.middle = nn.Sequential(nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.decode = nn.Sequential(nn.Conv2d(2 * width, width, 3, padding=1), nn.ReLU())
        self.classify = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        skip = self.encode(x)
        x = self.up(self.middle(self.down(skip)))
        return self.classify(self.decode(torch.cat([x, skip], dim=1)))


torch.manual_seed(0)
standard = TinyUNet().eval()
spherical = equiconv.convert(copy.deepcopy(standard)).eval()

# %%
# What was replaced
# -----------------
# Every 3×3 convolution, the pooling and the transposed convolution; the 1×1 classifier reads one
# pixel and stays ``nn.Conv2d``. The parameters keep their names and values, so a state dict
# moves between the two networks.

before = dict(standard.named_modules())
for name, module in spherical.named_modules():
    if name and not isinstance(module, nn.Sequential) and type(module) is not type(before[name]):
        print(f"{name:10s} {type(before[name]).__name__:16s} -> {type(module).__name__}")
assert type(spherical.classify) is nn.Conv2d
print(f"classify   {spherical.classify} (1x1: unchanged)")

state, converted_state = standard.state_dict(), spherical.state_dict()
assert state.keys() == converted_state.keys()
assert all(torch.equal(state[key], converted_state[key]) for key in state)
spherical.load_state_dict(state)  # and back: standard.load_state_dict(spherical.state_dict())
print(f"{len(state)} tensors in both state dicts, equal")

# %%
# Turning the panorama
# --------------------
# A roll of the columns by half the width turns the camera by 180°: the seam moves to the middle
# of the image. A network that treats the sphere as a sphere gives the same output, rolled back.
# Per column, the largest difference between ``f(x)`` and ``roll(f(roll(x, W/2)), -W/2)``:

HEIGHT, WIDTH = 32, 64
x = torch.rand(1, 3, HEIGHT, WIDTH)


def seam_error(net):
    with torch.no_grad():
        direct = net(x)
        turned = net(torch.roll(x, WIDTH // 2, dims=-1)).roll(-(WIDTH // 2), dims=-1)
    return (direct - turned).abs().amax(dim=(0, 1, 2))  # per output column


standard_error, spherical_error = seam_error(standard), seam_error(spherical)
print(f"nn layers:       largest difference {float(standard_error.max()):.2e}, at columns "
      f"{(standard_error > 1e-5).nonzero().flatten().tolist()}")
print(f"equiconv layers: largest difference {float(spherical_error.max()):.2e}")
assert standard_error.max() > 1e-3 and spherical_error.max() < 1e-5

# %%
# The standard network differs next to the seam and around the middle column, where the turned
# image had its edges, as far in as its receptive field reaches: one of the two inputs puts zero
# padding where the other has pixels. Elsewhere both agree. The converted network agrees
# everywhere, to float32 rounding.

fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
columns = torch.arange(WIDTH)
floor = 1e-9  # log scale: zero drawn at the floor
ax.semilogy(columns, standard_error.clamp_min(floor), "o-", ms=3, label="nn layers")
ax.semilogy(columns, spherical_error.clamp_min(floor), "o-", ms=3, label="equiconv.convert")
ax.axvline(-0.5, color="0.5", lw=0.8)
ax.axvline(WIDTH - 0.5, color="0.5", lw=0.8)
ax.set_xlabel("output column (the seam lies at both edges)")
ax.axvline(WIDTH / 2 - 0.5, color="0.8", lw=0.8, ls="--")
ax.set_ylabel("|f(x) − turned back f(turned x)|")
ax.set_title(f"Roll by W/2 on a {HEIGHT}×{WIDTH} panorama (zero drawn at 1e-9)", fontsize=10)
ax.legend(fontsize=8)
plt.show()
