"""The roofline model of docs/gpu-roofline.md: it covers the benchmark layers, and the 4K
panorama's forward+backward needs well under 2 GB beyond its tensors."""
from benchmarks import roofline
from benchmarks.cases import Case


def test_4k_panorama_extra_memory_is_small():
    case, tensors, extra = roofline.memory_case()
    assert (case.height, case.width, case.in_channels) == (2048, 4096, 64)
    assert tensors == 4 * 64 * 2048 * 4096 * 4 + 2 * 9 * 64 * 64 * 4
    assert extra < 64 * 2**20  # the brief's bar is 2 GB; the model gives about 10 MiB


def test_every_benchmark_layer_has_three_passes_and_a_ratio():
    for dtype in ("bfloat16", "float32"):
        for case in roofline.cases():
            ps = roofline.passes(case, dtype)
            assert [p.name for p in ps] == list(roofline.PASSES)
            for p in ps:
                assert p.mma_flops >= p.useful_flops > 0 and p.expected_ratio(dtype) >= 1.0
    assert "fwd+bwd" in roofline.table("bfloat16")


def test_short_channels_pay_for_a_16_wide_k_block_only():
    (forward, *_) = roofline.passes(Case(8, 3, 32, 256, 512), "bfloat16")
    assert forward.mma_flops == forward.useful_flops * 16 / 3
