"""What the Triton tests share: the device they run on, the skip when Triton is missing, and the
compiled CPU operator they are compared with."""
import pytest
import torch

from equiconv import triton as equi_triton

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
needs_triton = pytest.mark.skipif(not equi_triton.available(),
                                  reason=str(equi_triton.unavailable_reason()))


def on_cpu(*tensors):
    return [t.detach().cpu().float() if t.dtype in (torch.float16, torch.bfloat16) else t.detach().cpu()
            for t in tensors]


def close(actual, expected, tol):
    """Max absolute difference within tol times the expected values' scale."""
    actual, expected = actual.detach().cpu().double(), expected.detach().cpu().double()
    assert actual.shape == expected.shape
    scale = max(expected.abs().max().item(), 1.0)
    err = (actual - expected).abs().max().item() if actual.numel() else 0.0
    assert err <= tol * scale, f"max error {err:.3g} > {tol:.1g} x {scale:.3g}"
