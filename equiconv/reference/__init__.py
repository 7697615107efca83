"""Pure-PyTorch references of the compiled operators (docs/geometry.md, "The operators' contracts"),
independent of the compiled core: the oracles the tests compare against, selectable with
``backend='reference'``, and what runs (slowly, with per-pixel index tensors) where the core is
not built. Differentiable by autograd."""
from equiconv.reference.conv import equi_conv2d
from equiconv.reference.conv_transpose import equi_conv_transpose2d
from equiconv.reference.pool import equi_avg_pool2d, equi_max_pool2d
from equiconv.reference.sampling import sampling_grid

__all__ = ["equi_avg_pool2d", "equi_conv2d", "equi_conv_transpose2d", "equi_max_pool2d", "sampling_grid"]
