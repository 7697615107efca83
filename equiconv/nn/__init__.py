"""Modules: drop-in counterparts of torch.nn layers (same arguments, parameter names,
initialisation and extra_repr) that work on the sphere."""
from equiconv.nn.conv import EquiConv2d

__all__ = ["EquiConv2d"]
