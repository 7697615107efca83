"""The other spherical convolution a user could install: NVIDIA's torch-harmonics
(DiscreteContinuousConvS2, DISCO convolutions on equiangular grids), matched to a layer case.
Opt-in (`make bench-peers` installs it with --no-deps, keeping the installed torch); skipped with
the reason where it is not importable."""
import math

import torch

PEER = "torch_harmonics"
MATCHING = ("DiscreteContinuousConvS2, piecewise-linear basis with kernel_shape (k, k), support radius k/2 "
            "pixel angles of latitude, equiangular grids of the case's input and output sizes, own weights")


def version():
    """torch-harmonics' version, or None where it is not importable."""
    try:
        import torch_harmonics
    except ImportError:
        return None
    return torch_harmonics.__version__


def disco_conv(case, device: torch.device, dtype: torch.dtype):
    """(module, None) for the case, or (None, why not). Shapes matched as a user choosing it
    for a k x k layer would: the same input grid (H, W) and the output grid (H/s, W/s) of a
    stride-s layer, both equiangular; kernel_shape (k, k) with the piecewise-linear basis; and a
    support radius of k/2 pixel angles of latitude (MATCHING), which just covers the k x k
    footprint (torch-harmonics' default cutoff is several times wider, and slower). Its own
    weights: DISCO's parametrisation is not a k x k kernel (4, 11 and 22 basis functions for
    k = 3, 5, 7 against 9, 25 and 49 taps)."""
    if version() is None:
        return None, "torch-harmonics is not importable (make bench-peers installs it)"
    from torch_harmonics import DiscreteContinuousConvS2
    k = case.kernel_size
    try:
        module = DiscreteContinuousConvS2(
            case.in_channels, case.out_channels, (case.height, case.width), case.out_size, (k, k),
            basis_type="piecewise linear", theta_cutoff=k / 2 * math.pi / case.height)
        return module.to(device=device, dtype=dtype), None
    except (RuntimeError, ValueError, NotImplementedError) as error:
        return None, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
