"""equiconv: spherical convolutions for equirectangular (360 degree) images.

``EquiConv2d`` is a drop-in ``nn.Conv2d`` whose kernels are laid on the sphere, and its sister
modules do the same for transposed convolution, pooling, padding and resampling; ``convert``
swaps them into an existing network; ``solid_angle`` weighs pixels by the sphere they cover;
``sampling_grid`` / ``deform_offsets`` expose the geometry; ``rotate``, ``to_perspective``,
``to_cubemap`` and ``from_cubemap`` resample whole panoramas on the sphere; ``torch.onnx.export``
works on all of them (see ``equiconv.onnx``).

Example:
    >>> conv = equiconv.EquiConv2d(3, 8, kernel_size=3, padding=1)   # nn.Conv2d's arguments
    >>> conv(torch.randn(1, 3, 16, 32)).shape                      # (N, C, H, W), the whole sphere
    torch.Size([1, 8, 16, 32])
    >>> net = equiconv.convert(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.MaxPool2d(2)))
    >>> [type(m).__name__ for m in net]
    ['EquiConv2d', 'EquiMaxPool2d']
"""
from equiconv import functional, nn, onnx, reference, resampling
from equiconv.area import solid_angle
from equiconv.convert import convert
from equiconv.geometry import deform_offsets, sampling_grid
from equiconv.nn import *  # noqa: F401,F403  (every module, as listed in equiconv.nn.__all__)
from equiconv.resampling import from_cubemap, rotate, rotation_matrix, to_cubemap, to_perspective

__version__ = "0.1.0"
__all__ = [*nn.__all__, "convert", "deform_offsets", "from_cubemap", "functional", "nn", "onnx", "reference",
           "resampling", "rotate", "rotation_matrix", "sampling_grid", "solid_angle", "to_cubemap", "to_perspective"]
