"""What the benchmark measures: layer shapes (the distinct 3x3 convolutions of the PanOSIS U-Net,
a kernel-size sweep, a stride-2 case), the operator family's other layers, and end-to-end U-Net
training steps, grouped in suites."""
from dataclasses import asdict, dataclass, fields
from typing import Dict, Iterable, List, Sequence, Tuple

from benchmarks.operators import OpCase

UNET_CHANNELS = (32, 64, 128, 256, 512)
SUITES = ("layers", "kernels", "stride", "operators", "unet")
KERNEL_SIZES = (3, 5, 7)
SWEEP_CHANNELS = 64  # channels of the kernel-size sweep and the stride-2 case

# Per device type: input sizes (H, W) and batches per suite. Layers get 1, 4 and 16 as the
# issue asks; the sweeps and the end-to-end step one or two batches, to keep a run in minutes.
DEFAULT_SIZES: Dict[str, Tuple[Tuple[int, int], ...]] = {
    "cpu": ((128, 256),),
    "cuda": ((256, 512), (512, 1024)),
}
DEFAULT_BATCHES: Dict[str, Dict[str, Tuple[int, ...]]] = {
    "cpu": {"layers": (1, 4, 16), "kernels": (4,), "stride": (4,), "operators": (4,), "unet": (4,)},
    "cuda": {"layers": (1, 4, 16), "kernels": (4,), "stride": (4,), "operators": (4, 16), "unet": (4, 16)},
}


@dataclass(frozen=True)
class Case:
    """One convolution layer, padded so that stride 1 keeps the size (as in the U-Net)."""

    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    kernel_size: int = 3
    stride: int = 1
    suite: str = "layers"

    @property
    def padding(self) -> int:
        return self.kernel_size // 2

    @property
    def out_size(self) -> Tuple[int, int]:
        """nn.Conv2d's output grid (dilation 1)."""
        return tuple((n + 2 * self.padding - self.kernel_size) // self.stride + 1
                     for n in (self.height, self.width))

    @property
    def name(self) -> str:
        return (f"b{self.batch} {self.in_channels}->{self.out_channels} k{self.kernel_size} "
                f"s{self.stride} {self.height}x{self.width}")

    def as_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "suite"}
        return {**d, "padding": self.padding}


@dataclass(frozen=True)
class UNetCase:
    """One training step of the reference U-Net (panosis_models.models.unet.UNet) on an H x W batch."""

    batch: int
    height: int
    width: int
    channels: Tuple[int, ...] = UNET_CHANNELS
    suite: str = "unet"

    @property
    def name(self) -> str:
        return f"b{self.batch} unet {self.channels[0]}-{self.channels[-1]} {self.height}x{self.width}"

    def as_dict(self) -> dict:
        d = asdict(self)
        del d["suite"]
        return {**d, "channels": list(self.channels)}


def unet_layers(height: int, width: int, batch: int) -> List[Case]:
    """Encoder (c_in -> c, c -> c) and decoder (2c -> c after the skip concatenation) 3x3 layers
    at each level of the U-Net for an input of height x width."""
    cases, previous = set(), 3
    for level, c in enumerate(UNET_CHANNELS):
        h, w = height >> level, width >> level
        cases |= {Case(batch, previous, c, h, w), Case(batch, c, c, h, w)}
        if level < len(UNET_CHANNELS) - 1:
            cases.add(Case(batch, 2 * c, c, h, w))
        previous = c
    return sorted(cases, key=lambda c: (-c.height, c.in_channels, c.out_channels))


def kernel_sweep(height: int, width: int, batch: int) -> List[Case]:
    """64 -> 64 at full resolution with kernels 3, 5 and 7: how the cost grows with the taps."""
    return [Case(batch, SWEEP_CHANNELS, SWEEP_CHANNELS, height, width, k, suite="kernels")
            for k in KERNEL_SIZES]


def stride_two(height: int, width: int, batch: int) -> List[Case]:
    """64 -> 64, 3x3, stride 2: the strided output grid (a down-sampling layer)."""
    return [Case(batch, SWEEP_CHANNELS, SWEEP_CHANNELS, height, width, 3, stride=2, suite="stride")]


def operator_calls(height: int, width: int, batch: int) -> List[OpCase]:
    """The U-Net's other sampling layers at full resolution: its 2x2 stride-2 up-convolution (64 -> 32
    channels onto height x width) and a 3x3 stride-2 one, its 2x2 max-pooling, a 3x3 stride-2 padded
    max-pooling (a ResNet stem's) and 2x2 average pooling, on 32 channels."""
    return [OpCase("conv_transpose", batch, 64, height // 2, width // 2, 2, 2, 0, out_channels=32),
            OpCase("conv_transpose", batch, 64, height // 2, width // 2, 3, 2, 1, out_channels=32),
            OpCase("max_pool", batch, 32, height, width, 2, 2, 0),
            OpCase("max_pool", batch, 32, height, width, 3, 2, 1),
            OpCase("avg_pool", batch, 32, height, width, 2, 2, 0)]


def unet_steps(height: int, width: int, batch: int) -> List[UNetCase]:
    return [UNetCase(batch, height, width)]


BUILDERS = {"layers": unet_layers, "kernels": kernel_sweep, "stride": stride_two, "operators": operator_calls,
            "unet": unet_steps}


def plan(device_type: str, suites: Iterable[str] = SUITES, sizes: Sequence[Tuple[int, int]] = None,
         batches: Sequence[int] = None) -> list:
    """The cases of ``suites``, at ``sizes`` and ``batches`` (default: the device type's)."""
    sizes = sizes or DEFAULT_SIZES[device_type]
    cases = []
    for suite in suites:
        for height, width in sizes:
            for batch in batches or DEFAULT_BATCHES[device_type][suite]:
                cases += BUILDERS[suite](height, width, batch)
    return cases


def quick() -> list:
    """A set that runs in about a minute on 2 CPU cores and touches every suite and candidate:
    first the core issue's reference shape (batch 4, 64->64, 3x3, 128x256; the one the showcase
    times), then a layer small enough for the pure-PyTorch reference, a 5x5 and a
    stride-2 layer, a transposed convolution and a max-pooling, and a training step of a narrow U-Net."""
    return [
        Case(4, 64, 64, 128, 256),
        Case(1, 16, 16, 32, 64),
        Case(2, 32, 32, 64, 128, 5, suite="kernels"),
        Case(2, 32, 32, 64, 128, 3, stride=2, suite="stride"),
        OpCase("conv_transpose", 2, 32, 32, 64, 2, 2, 0, out_channels=16),
        OpCase("max_pool", 2, 32, 64, 128, 2, 2, 0),
        UNetCase(2, 64, 128, channels=(8, 16, 32, 64, 128)),
    ]
