"""
Exporting to ONNX
=================

A network holding equiconv layers exports with ``torch.onnx.export`` as it stands: while the
export runs, :mod:`equiconv.onnx` writes each spherical operator in standard ONNX operators (a
Gather of the bilinear corners of every tap from a table computed at export, then MatMuls). The
graph runs in onnxruntime without a custom operator. The tables are computed for the height and
width of the example input: only the batch dimension may be dynamic.
"""
import logging
import shutil
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import onnx
import onnxruntime
import torch
from torch import nn

import equiconv

torch.manual_seed(0)
HEIGHT, WIDTH = 32, 64
net = equiconv.convert(nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
    nn.ConvTranspose2d(8, 8, 2, stride=2), nn.ReLU(),
    nn.Conv2d(8, 4, 1),
)).eval()
print(net)

# %%
# Export
# ------
# PyTorch's default exporter, with the batch marked dynamic.

# sphinx_gallery_start_ignore
# the exporter's optimiser logs at INFO level under the documentation build
for name in ("onnxscript", "onnx_ir"):
    logging.getLogger(name).setLevel(logging.WARNING)
# sphinx_gallery_end_ignore
folder = Path(tempfile.mkdtemp())
path = folder / "net.onnx"
example = torch.randn(2, 3, HEIGHT, WIDTH)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the exporter's notes
    torch.onnx.export(net, (example,), path, dynamic_shapes=({0: torch.export.Dim("batch")},),
                      verbose=False)
print(f"exported in {time.perf_counter() - start:.1f} s, {path.stat().st_size / 1024:.0f} KiB")

graph = onnx.load(str(path)).graph
operators = Counter(node.op_type for node in graph.node)
print("operators:", ", ".join(f"{name} x{count}" for name, count in sorted(operators.items())))
assert {node.domain for node in graph.node} <= {"", "ai.onnx"}  # standard operators only

# %%
# Run in onnxruntime
# ------------------
# The input's shape in the graph: a named batch, then the channels, height and width the network
# was exported with. A batch of another size runs; the output equals PyTorch's (the compiled
# operators) to float32 rounding.

session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
print("graph input:", session.get_inputs()[0].name, session.get_inputs()[0].shape)

x = equiconv.EquiUpsample(size=(HEIGHT, WIDTH), mode="bilinear")(torch.randn(3, 3, 8, 16))  # smooth panoramas
(got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
got = torch.from_numpy(got)
with torch.no_grad():
    expected = net(x)
difference = (got - expected).abs()
print(f"output {tuple(got.shape)}, largest |onnxruntime - PyTorch| = {float(difference.max()):.1e}")
torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
shutil.rmtree(folder)

# %%
# The first output channel of the first image from both, and their difference, which is nowhere
# larger than float32 rounding of the values, the seam and the poles included.

fig, axes = plt.subplots(1, 3, figsize=(10, 2.2), layout="constrained")
for ax, image, title in zip(axes, (expected[0, 0], got[0, 0], difference[0, 0]),
                            ("PyTorch", "onnxruntime", "|difference|")):
    shown = ax.imshow(image, extent=(-180, 180, -90, 90), cmap="magma" if title[0] == "|" else "viridis")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([-180, 0, 180])
    ax.set_yticks([-90, 0, 90])
fig.colorbar(shown, ax=axes[2], shrink=0.9)
plt.show()
