"""The layer shapes worth measuring: the distinct 3x3 convolutions of the PanOSIS U-Net."""
from dataclasses import asdict, dataclass

UNET_CHANNELS = (32, 64, 128, 256, 512)


@dataclass(frozen=True)
class Case:
    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    kernel_size: int = 3
    stride: int = 1

    @property
    def padding(self) -> int:
        return self.kernel_size // 2

    def as_dict(self) -> dict:
        return asdict(self)


def unet_layers(height: int, width: int, batch: int) -> list:
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


def quick() -> list:
    """The reference shape of the core issue: batch 4, 64->64, 3x3, 128x256."""
    return [Case(4, 64, 64, 128, 256)]
