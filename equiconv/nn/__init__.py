"""Modules: drop-in counterparts of torch.nn layers (same arguments, parameter names,
initialisation and extra_repr) that work on the sphere."""
from equiconv.nn.adaptive_pooling import EquiAdaptiveAvgPool2d
from equiconv.nn.conv import EquiConv2d, EquiConvTranspose2d
from equiconv.nn.padding import SpherePad2d
from equiconv.nn.pooling import EquiAvgPool2d, EquiMaxPool2d
from equiconv.nn.resampling import FromCubemap, RandomSphereRotation, SphereRotation, ToCubemap, ToPerspective
from equiconv.nn.upsampling import EquiUpsample

__all__ = ["EquiAdaptiveAvgPool2d", "EquiAvgPool2d", "EquiConv2d", "EquiConvTranspose2d", "EquiMaxPool2d",
           "EquiUpsample", "FromCubemap", "RandomSphereRotation", "SpherePad2d", "SphereRotation", "ToCubemap",
           "ToPerspective"]
