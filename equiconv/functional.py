"""Functional forms of every operator (as torch.nn.functional is to torch.nn)."""
from equiconv.ops.conv2d import equi_conv2d

__all__ = ["equi_conv2d"]
