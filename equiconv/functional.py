"""Functional forms of every operator (as torch.nn.functional is to torch.nn)."""
from equiconv.ops.adaptive_pool import equi_adaptive_avg_pool2d
from equiconv.ops.conv2d import equi_conv2d
from equiconv.ops.interpolate import interpolate
from equiconv.ops.pad import pad

__all__ = ["equi_adaptive_avg_pool2d", "equi_conv2d", "interpolate", "pad"]
