"""How big the OSMIS networks are for an image size: the generator gets as many blocks as make
its noise map 3-7 pixels high (each block after the first doubles the side), the
discriminator enough low-level blocks to bring the image down to a layout map about 16-32
pixels high, then a few content and layout blocks."""
import math

NOISE_HEIGHTS = range(3, 8)
MAX_BRANCH_BLOCKS = 3
# channel multipliers of the base width: generator from the noise map outwards, discriminator
# from the image inwards
GENERATOR_WIDTHS = (8, 8, 8, 8, 8, 8, 8, 4, 2, 1)
DISCRIMINATOR_WIDTHS = (1, 2, 4, 8, 8, 8, 8, 8, 8)


def _valid_heights(limit: int) -> list:
    return sorted({h * 2 ** k for h in NOISE_HEIGHTS for k in range(12) if h * 2 ** k <= limit})


def generator_blocks(height: int, width: int) -> tuple:
    """(number of blocks, noise map (h, w)) for a ``height`` x ``width`` output: the fewest
    blocks whose noise map is 3-7 pixels high. Both sides must divide exactly."""
    if height < NOISE_HEIGHTS[0] or width < 1:
        raise ValueError(f"size must be at least {NOISE_HEIGHTS[0]}x1, got {height}x{width}")
    for blocks in range(1, 13):
        scale = 2 ** (blocks - 1)
        if height % scale:
            break
        if height // scale in NOISE_HEIGHTS:
            if width % scale:
                raise ValueError(f"size {height}x{width}: the width must be a multiple of {scale} "
                                 f"for a {height // scale}-pixel-high noise map")
            return blocks, (height // scale, width // scale)
    nearby = [h for h in _valid_heights(2 * height) if abs(h - height) <= height // 2]
    closest = sorted(nearby, key=lambda h: abs(h - height))[:2]
    raise ValueError(f"size {height}x{width}: the height must be (3 to 7) times a power of two, "
                     f"e.g. {' or '.join(map(str, sorted(closest)))}")


def discriminator_blocks(height: int, width: int) -> tuple:
    """(low-level blocks, content/layout blocks) for images of ``height`` x ``width``."""
    generator, _ = generator_blocks(height, width)
    low_level = min(max(round(math.log2(height / 16)), 1), 4, max(generator - 1, 1))
    layout_side = min(height, width) // 2 ** low_level
    branch = min(MAX_BRANCH_BLOCKS, max(int(math.log2(max(layout_side, 1))), 1))
    return low_level, branch


def generator_widths(base: int, blocks: int) -> list:
    """Channels of the noise-map features and after each of ``blocks`` blocks (wide near the
    noise, narrow at full resolution)."""
    if blocks + 1 > len(GENERATOR_WIDTHS):
        raise ValueError(f"at most {len(GENERATOR_WIDTHS) - 1} generator blocks, got {blocks}")
    return [m * base for m in GENERATOR_WIDTHS[-(blocks + 1):]]


def discriminator_widths(base: int, blocks: int) -> list:
    """Channels of the full-resolution features and after each of ``blocks`` blocks."""
    if blocks + 1 > len(DISCRIMINATOR_WIDTHS):
        raise ValueError(f"at most {len(DISCRIMINATOR_WIDTHS) - 1} discriminator blocks, got {blocks}")
    return [m * base for m in DISCRIMINATOR_WIDTHS[:blocks + 1]]
