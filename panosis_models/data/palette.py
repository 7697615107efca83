"""The CVRG-Pano label scheme and the OSMIS colour palette, so that index masks (what the models
train on) and colour masks (what OSMIS writes and people look at) convert exactly both ways.

Arrays are numpy throughout; colours are RGB (the original converter's BGR reading was a bug)."""
import numpy as np

UNLABELLED, FLAT, CONSTRUCTION, OBJECT, NATURE, SKY, PERSON, VEHICLE = range(8)
CLASS_NAMES = ("unlabelled", "flat", "construction", "object", "nature", "sky", "person", "vehicle")
NUM_CLASSES = len(CLASS_NAMES)

PALETTE = np.array([
    (0, 0, 0),        # 0 unlabelled: black
    (255, 0, 0),      # 1 flat: red
    (0, 255, 0),      # 2 construction: green
    (255, 255, 0),    # 3 object: yellow
    (0, 0, 255),      # 4 nature: blue
    (255, 0, 255),    # 5 sky: magenta
    (0, 255, 255),    # 6 person: cyan
    (255, 255, 255),  # 7 vehicle: white
], dtype=np.uint8)


def _packed(rgb: np.ndarray) -> np.ndarray:
    """One int32 per colour (0xRRGGBB), so colours compare and sort as scalars."""
    rgb = rgb.astype(np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def labels_to_colour(labels: np.ndarray) -> np.ndarray:
    """Label mask (H, W) of integers 0-7 -> colour mask (H, W, 3) uint8 in RGB order."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 2-D integer array, got shape {labels.shape} "
                         f"and dtype {labels.dtype}")
    bad = (labels < 0) | (labels >= NUM_CLASSES)
    if bad.any():
        raise ValueError(f"labels must lie in 0..{NUM_CLASSES - 1}: {int(bad.sum())} pixels "
                         f"do not, e.g. {int(labels[bad][0])}")
    return PALETTE[labels]


def colour_to_labels(rgb: np.ndarray) -> np.ndarray:
    """Colour mask (H, W, 3) uint8 RGB -> label mask (H, W) uint8. A colour outside the palette
    is an error (never silently class 0): the message gives the pixel count and an example."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got shape {rgb.shape} "
                         f"and dtype {rgb.dtype}")
    codes = _packed(rgb)
    palette_codes = _packed(PALETTE)
    order = np.argsort(palette_codes)
    slot = np.searchsorted(palette_codes[order], codes).clip(max=NUM_CLASSES - 1)
    labels = order[slot]
    unknown = palette_codes[labels] != codes
    if unknown.any():
        example = tuple(int(c) for c in rgb[unknown][0])
        raise ValueError(f"{int(unknown.sum())} pixels have colours outside the palette, "
                         f"e.g. RGB {example}")
    return labels.astype(np.uint8)
