"""The CPU-testable part of make gpu-check's kernel-set comparison (benchmarks/gpu_kernels.py):
its cases, arguments, switches and report."""
import os

import pytest
import torch

from benchmarks import gpu_kernels


def test_cases_are_the_unet_layers_at_both_sizes():
    cases = gpu_kernels.cases(gpu_kernels.parse_sizes("256x512,512x1024"), 8)
    assert {(c.height, c.width) for c in cases if c.in_channels == 3} == {(256, 512), (512, 1024)}
    assert all(c.kernel_size == 3 and c.batch == 8 for c in cases)
    with pytest.raises(ValueError, match="--sizes must be HxW"):
        gpu_kernels.parse_sizes("256by512")


def test_switches_are_restored(monkeypatch):
    monkeypatch.setenv("EQUICONV_CUDA_KERNELS", "cuda")
    with gpu_kernels.kernel_set("triton"):
        assert os.environ["EQUICONV_CUDA_KERNELS"] == "triton"
    assert os.environ["EQUICONV_CUDA_KERNELS"] == "cuda"
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    with gpu_kernels.tf32(True):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


def test_report_names_the_faster_kernel_set_and_the_failures():
    rows = [{"layer": "b8 64->64 k3 s1 256x512", "dtype": "bfloat16", "cudnn_ms": 1.0, "triton_ms": 1.5,
             "cuda_ms": 9.0, "max_rel_error": 2e-3},
            {"layer": "b8 3->32 k3 s1 512x1024", "dtype": "float32", "cudnn_ms": 1.0, "cuda_ms": 2.0,
             "triton_error": "CompilationError: boom"}]
    text = gpu_kernels.report(rows, {"triton": {"peak_bytes": 3 * 2**30, "extra_bytes": 10 * 2**20},
                                     "cuda": {"error": "OutOfMemoryError: CUDA out of memory"}})
    first, second = text.splitlines()[1:3]
    assert first.split()[-2] == "triton" and "1.50" in first and "9.00" in first
    assert second.split()[-2] == "-"
    assert "triton did not run: CompilationError: boom" in text
    assert "triton: peak 3.00 GiB, 10 MiB beyond its tensors" in text
    assert "cuda: did not run: OutOfMemoryError" in text


def test_main_refuses_without_a_gpu(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert gpu_kernels.main(["--no-memory"]) == 2
    assert "no CUDA device" in capsys.readouterr().out
