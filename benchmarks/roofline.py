"""The roofline expectation for the Triton kernels on an H100/H200-class GPU, computed before any
GPU run so that the first one confirms or refutes it (docs/gpu-roofline.md is its output).

Per convolution layer and pass: the tensor-core FLOPs of the implicit GEMM (K padded to whole
BLOCK_K tiles per tap, as the kernels run it), the CUDA-core FLOPs of blending the operand tiles
(4 multiply-adds per sampled value, redone for every BLOCK_N block of the GEMM's N), the minimum
bytes (each tensor read or written once), the bound that follows, and the expected ratio to
cuDNN, which does the same GEMM without the blend. A model, not a measurement.

    python -m benchmarks.roofline [--dtype bfloat16|float32]
"""
import argparse
from dataclasses import dataclass
from typing import List

from benchmarks.cases import Case, unet_layers

# H100 SXM / H200 (the same SM array; H200 has faster and more HBM): dense peaks, bytes per second.
GPU = dict(name="H200 (H100 SXM: HBM 3.35 TB/s, 80 GB)", sms=132, hbm=4.8e12, memory=141e9,
           tensor={"bfloat16": 989e12, "float32": 495e12},  # float32 as TF32 (allow_tf32 on both sides)
           cuda_core=67e12)                                  # float32 FMA: where the blend runs
BLOCK_K = {"bfloat16": 64, "float32": 32}
BLOCK_N = 128  # the tile the autotuner is expected to keep for >= 128 channels (64 below)
ELEMENT = {"bfloat16": 2, "float32": 4}
PASSES = ("forward", "grad_input", "grad_weight")


def _ceil(a: int, b: int) -> int:
    return -(-a // b) * b


def _k_block(dtype: str, extent: int) -> int:
    """equiconv.triton.config.block_k on a GPU: the dtype's K block, or the next power of two >= 16."""
    return min(BLOCK_K[dtype], max(16, 1 << (extent - 1).bit_length()))


@dataclass(frozen=True)
class Pass:
    case: Case
    name: str
    mma_flops: float     # tensor-core FLOPs as the kernel issues them
    useful_flops: float  # 2 * pixels * taps * C * O: cuDNN's
    blend_flops: float
    bytes: float

    def times(self, dtype: str):
        """(memory, tensor-core, blend) seconds at peak."""
        return self.bytes / GPU["hbm"], self.mma_flops / GPU["tensor"][dtype], self.blend_flops / GPU["cuda_core"]

    def expected_ratio(self, dtype: str) -> float:
        """Ours over cuDNN's: both at the same fraction of their bound; ours adds the blend to the
        tensor-core time (no warp specialisation overlaps them) and pays for padded K."""
        memory, mma, blend = self.times(dtype)
        cudnn = max(memory, self.useful_flops / GPU["tensor"][dtype])
        return max(memory, mma + blend) / cudnn

    def bound(self, dtype: str) -> str:
        memory, mma, blend = self.times(dtype)
        return "memory" if memory >= mma + blend else ("blend" if blend > mma else "tensor cores")


def passes(case: Case, dtype: str) -> List[Pass]:
    """The three kernels of one layer (groups 1, as the benchmark layers)."""
    e = ELEMENT[dtype]
    taps = case.kernel_size ** 2
    ho, wo = case.out_size
    n, c, o = case.batch, case.in_channels, case.out_channels
    out_pixels, in_pixels = n * ho * wo, n * case.height * case.width
    useful = 2.0 * out_pixels * taps * c * o
    bn_o = BLOCK_N if o >= BLOCK_N else 64
    bn_c = BLOCK_N if c >= BLOCK_N else 64
    x, y, w = in_pixels * c * e, out_pixels * o * e, taps * c * o * e
    return [
        # forward: M = output pixels, N = O, K = taps x C (C padded per tap); A blended per N block
        Pass(case, "forward", 2.0 * out_pixels * _ceil(o, 16) * taps * _ceil(c, _k_block(dtype, c)), useful,
             8.0 * out_pixels * taps * c * -(-o // bn_o), x + y + w),
        # grad input: M = input pixels, N = C, K = taps x O; A gathered (about 4 corner entries per
        # tap and input pixel at stride 1), per N block
        Pass(case, "grad_input", 2.0 * in_pixels * _ceil(c, 16) * taps * _ceil(o, _k_block(dtype, o)), useful,
             8.0 * in_pixels * taps * o * -(-c // bn_c), x + y + w),
        # grad weight: M = O, N = C, K = output pixels; B sampled per M block
        Pass(case, "grad_weight", 2.0 * _ceil(o, 16) * _ceil(c, 16) * taps * out_pixels, useful,
             8.0 * out_pixels * taps * c * -(-o // bn_o), x + y + w),
    ]


def extra_memory(case: Case, dtype: str, sms: int = GPU["sms"]) -> dict:
    """Bytes each kernel allocates beyond the op's tensors (inputs, outputs, autograd's saved ones)."""
    e = ELEMENT[dtype]
    taps = case.kernel_size ** 2
    ho, _ = case.out_size
    weight = taps * case.in_channels * case.out_channels
    tables = ho * taps * (2 * 4 + 2 * 4 + 4 * 4)                       # rows, bases (int32), weights (float32)
    inverse = 4 * ho * taps * (4 + 4 + 4) + (case.height * taps + 1) * 4  # CSR entries and offsets
    programs = taps * -(-case.out_channels // 64) * -(-case.in_channels // 64)
    parts = max(1, min(case.batch * ho, -(-4 * sms // programs)))
    return {"forward": weight * e + tables, "grad_input": weight * e + inverse,
            "grad_weight": parts * weight * 4 + weight * 4, "grad_bias": case.out_channels * 4}


def memory_case(dtype: str = "float32"):
    """b1 64->64 3x3 at 2048x4096, forward + backward: (its tensors, the kernels' extra) bytes."""
    case = Case(1, 64, 64, 2048, 4096)
    e = ELEMENT[dtype]
    image = case.batch * 64 * case.height * case.width * e
    tensors = 4 * image + 2 * 9 * 64 * 64 * e  # input, output, grad_output, grad_input; weight and its grad
    extra = extra_memory(case, dtype)
    return case, tensors, extra["forward"] + extra["grad_input"] + extra["grad_weight"] + extra["grad_bias"]


def cases(height: int = 256, width: int = 512) -> List[Case]:
    """The benchmark's U-Net layers (batch 8: the issue's reference batch) and the 64->64 sweep."""
    layers = unet_layers(height, width, 8)
    return layers + [Case(8, 64, 64, height, width, k) for k in (5, 7)] + [Case(8, 64, 64, height, width, 3, 2)]


def table(dtype: str, height: int = 256, width: int = 512) -> str:
    rows = [f"| layer ({dtype}) | pass | GFLOP (useful / issued) | blend GFLOP | min MB | bound | "
            "expected / cuDNN |", "|---|---|---|---|---|---|---|"]
    for case in cases(height, width):
        total_ours = total_cudnn = 0.0
        for p in passes(case, dtype):
            memory, mma, blend = p.times(dtype)
            cudnn = max(memory, p.useful_flops / GPU["tensor"][dtype])
            total_ours, total_cudnn = total_ours + max(memory, mma + blend), total_cudnn + cudnn
            rows.append(f"| {case.name} | {p.name} | {p.useful_flops / 1e9:.1f} / {p.mma_flops / 1e9:.1f} | "
                        f"{p.blend_flops / 1e9:.1f} | {p.bytes / 1e6:.0f} | {p.bound(dtype)} | "
                        f"{p.expected_ratio(dtype):.2f} |")
        rows.append(f"| {case.name} | **fwd+bwd** | | | | | **{total_ours / total_cudnn:.2f}** |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=sorted(ELEMENT), default="bfloat16")
    args = parser.parse_args(argv)
    try:
        print(table(args.dtype))
    except BrokenPipeError:  # piped into head
        return
    case, tensors, extra = memory_case()
    print(f"\n{case.name} fwd+bwd float32: tensors {tensors / 2**30:.2f} GiB, kernels' extra {extra / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
