"""Modules: drop-in counterparts of torch.nn layers (same arguments, parameter names,
initialisation and extra_repr) that work on the sphere."""
from equiconv.nn.conv import EquiConv2d, EquiConvTranspose2d
from equiconv.nn.pooling import EquiAvgPool2d, EquiMaxPool2d

__all__ = ["EquiAvgPool2d", "EquiConv2d", "EquiConvTranspose2d", "EquiMaxPool2d"]
