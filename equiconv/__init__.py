"""equiconv: spherical convolutions for equirectangular (360 degree) images.

``EquiConv2d`` is a drop-in ``nn.Conv2d`` whose kernels are laid on the sphere, and its sister
modules do the same for transposed convolution, pooling, padding and resampling; ``convert``
swaps them into an existing network; ``solid_angle`` weighs pixels by the sphere they cover;
``sampling_grid`` / ``deform_offsets`` expose the geometry.
"""
from equiconv import functional, reference
from equiconv.area import solid_angle
from equiconv.convert import convert
from equiconv.geometry import deform_offsets, sampling_grid
from equiconv.nn import (EquiAdaptiveAvgPool2d, EquiAvgPool2d, EquiConv2d, EquiConvTranspose2d, EquiMaxPool2d,
                         EquiUpsample, SpherePad2d)

__version__ = "0.1.0"
__all__ = ["EquiAdaptiveAvgPool2d", "EquiAvgPool2d", "EquiConv2d", "EquiConvTranspose2d", "EquiMaxPool2d",
           "EquiUpsample", "SpherePad2d", "convert", "deform_offsets", "functional", "reference", "sampling_grid",
           "solid_angle"]
