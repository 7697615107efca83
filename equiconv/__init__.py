"""equiconv: spherical convolutions for equirectangular (360 degree) images.

``EquiConv2d`` is a drop-in ``nn.Conv2d`` whose kernels are laid on the sphere; ``convert``
swaps them into an existing network; ``sampling_grid`` / ``deform_offsets`` expose the geometry.
``SpherePad2d``, ``EquiUpsample`` and ``EquiAdaptiveAvgPool2d`` pad, resample and pool by the
sphere's boundary rules and areas.
"""
from equiconv import functional, reference
from equiconv.area import solid_angle
from equiconv.convert import convert
from equiconv.geometry import deform_offsets, sampling_grid
from equiconv.nn import EquiAdaptiveAvgPool2d, EquiConv2d, EquiUpsample, SpherePad2d

__version__ = "0.1.0"
__all__ = ["EquiAdaptiveAvgPool2d", "EquiConv2d", "EquiUpsample", "SpherePad2d", "convert", "deform_offsets",
           "functional", "reference", "sampling_grid", "solid_angle"]
