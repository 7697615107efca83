"""equiconv: spherical convolutions for equirectangular (360 degree) images.

``EquiConv2d`` is a drop-in ``nn.Conv2d`` whose kernels are laid on the sphere, and its sister
modules do the same for transposed convolution, pooling, padding and resampling; ``convert``
swaps them into an existing network; ``solid_angle`` weighs pixels by the sphere they cover;
``sampling_grid`` / ``deform_offsets`` expose the geometry.
"""
from equiconv import functional, nn, reference
from equiconv.area import solid_angle
from equiconv.convert import convert
from equiconv.geometry import deform_offsets, sampling_grid
from equiconv.nn import *  # noqa: F401,F403  (every module, as listed in equiconv.nn.__all__)

__version__ = "0.1.0"
__all__ = [*nn.__all__, "convert", "deform_offsets", "functional", "nn", "reference", "sampling_grid",
           "solid_angle"]
