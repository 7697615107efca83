"""Functional forms of every operator (as torch.nn.functional is to torch.nn).

Example:
    >>> from equiconv import functional as EF
    >>> x = torch.randn(1, 3, 16, 32)
    >>> EF.equi_conv2d(x, torch.randn(8, 3, 3, 3), padding=1).shape
    torch.Size([1, 8, 16, 32])
    >>> EF.pad(x, 1).shape
    torch.Size([1, 3, 18, 34])
"""
from equiconv.ops.adaptive_pool import equi_adaptive_avg_pool2d
from equiconv.ops.conv2d import equi_conv2d
from equiconv.ops.conv_transpose2d import equi_conv_transpose2d
from equiconv.ops.interpolate import interpolate
from equiconv.ops.pad import pad
from equiconv.ops.pool2d import equi_avg_pool2d, equi_max_pool2d

__all__ = ["equi_adaptive_avg_pool2d", "equi_avg_pool2d", "equi_conv2d", "equi_conv_transpose2d",
           "equi_max_pool2d", "interpolate", "pad"]
