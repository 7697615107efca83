"""The other spherical convolution a user could install: NVIDIA's torch-harmonics
(DiscreteContinuousConvS2, DISCO convolutions on equiangular grids), matched to a layer case.
Opt-in (`make bench-peers` installs it with --no-deps, keeping the installed torch); skipped with
the reason where it is not importable."""
import math

import torch

PEER = "torch_harmonics"


def version():
    """torch-harmonics' version, or None where it is not importable."""
    try:
        import torch_harmonics
    except ImportError:
        return None
    return torch_harmonics.__version__


def disco_conv(case, device: torch.device, dtype: torch.dtype):
    """(module, None) for the case, or (None, why not). Shapes matched: the same input grid (H, W),
    the output grid (H/s, W/s) of a stride-s layer, a Morlet basis of k x k functions (a k x k
    kernel's parameter count) and a cutoff of (k+1)/2 pixels of latitude (the k x k kernel's reach,
    plus half a pixel). Its own weights: DISCO's parametrisation is not a k x k kernel."""
    if version() is None:
        return None, "torch-harmonics is not importable (make bench-peers installs it)"
    from torch_harmonics import DiscreteContinuousConvS2
    k = case.kernel_size
    try:
        module = DiscreteContinuousConvS2(
            case.in_channels, case.out_channels, (case.height, case.width), case.out_size, (k, k),
            basis_type="morlet", theta_cutoff=(k + 1) / 2 * math.pi / case.height)
        return module.to(device=device, dtype=dtype), None
    except (RuntimeError, ValueError, NotImplementedError) as error:
        return None, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
