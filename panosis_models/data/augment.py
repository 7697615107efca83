"""Joint augmentation of an equirectangular (image, mask) pair that keeps it a valid full-sphere
panorama: tilting the camera (a random pitch and roll, resampled on the sphere by
``equiconv.rotate``: the image bilinear, the maps nearest), turning it about the vertical axis
(a horizontal roll by any number of columns), mirroring east and west (a horizontal flip:
longitude -> -longitude), and colour jitter of the image alone. Crops, scaling and vertical
flips are left out on purpose: each would move pixels off their latitude or longitude."""
import torch

from equiconv.resampling import rotate_together, rotation_matrix

GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma


def roll(image, mask, shift: int):
    """Turn the camera by ``shift`` columns (positive: content moves east, i.e. right)."""
    return image.roll(shift, dims=-1), mask.roll(shift, dims=-1)


def hflip(image, mask):
    """Mirror longitude about the image's central meridian: column x <-> W - 1 - x."""
    return image.flip(-1), mask.flip(-1)


def grey(image):
    """(1, H, W) luma of a (3, H, W) image."""
    return (image * image.new_tensor(GREY_WEIGHTS)[:, None, None]).sum(dim=0, keepdim=True)


def jitter_colour(image, brightness: float, contrast: float, saturation: float):
    """Scale brightness, contrast about the mean luma, and saturation about each pixel's luma;
    factors of 1 leave the image as it is. The result is clamped to [0, 1]."""
    image = image * brightness
    mean = grey(image).mean()
    image = (image - mean) * contrast + mean
    luma = grey(image)
    return ((image - luma) * saturation + luma).clamp(0, 1)


def _check_pair(image, mask):
    if image.ndim != 3 or image.shape[0] != 3 or not image.is_floating_point():
        raise ValueError(f"image must be a float tensor (3, H, W), got {tuple(image.shape)} "
                         f"{image.dtype}")
    if mask.shape != image.shape[1:]:
        raise ValueError(f"mask must have shape {tuple(image.shape[1:])} to match the image, "
                         f"got {tuple(mask.shape)}")


class PanoramaAugment:
    """Callable ``(image (3, H, W), mask (H, W), *more maps (H, W)) -> (image, mask, *maps)``
    (e.g. an instance map after the mask): a uniform random roll over all W columns, a flip with
    probability 1/2, both applied to the image and every map alike, and brightness, contrast and
    saturation factors drawn from [1 - jitter, 1 + jitter] (the image only). With ``tilt`` (degrees),
    first a pitch and a roll drawn from [-tilt, tilt] turn the camera (image bilinear, maps nearest).

    With ``seed`` the draws come from an own generator (reproducible in one process); without,
    from torch's global generator, which DataLoader workers seed differently each."""

    def __init__(self, roll: bool = True, flip: bool = True, jitter: float = 0.2, seed=None, tilt: float = 0.0):
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must lie in [0, 1), got {jitter!r}")
        if not 0 <= tilt <= 90:
            raise ValueError(f"tilt must lie in [0, 90] degrees, got {tilt!r}")
        self.roll, self.flip, self.jitter, self.tilt = roll, flip, jitter, tilt
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def _uniform(self, lo, hi):
        return lo + (hi - lo) * torch.rand((), generator=self.generator).item()

    def __call__(self, image, mask, *maps):
        for labels in (mask, *maps):
            _check_pair(image, labels)
        labels = torch.stack([mask, *maps])  # every map moves with the image
        if self.tilt:
            turn = rotation_matrix(pitch=self._uniform(-self.tilt, self.tilt), roll=self._uniform(-self.tilt, self.tilt))
            image, labels = rotate_together(turn, image, labels)
        if self.roll:
            shift = int(torch.randint(image.shape[-1], (), generator=self.generator))
            image, labels = roll(image, labels, shift)
        if self.flip and self._uniform(0, 1) < 0.5:
            image, labels = hflip(image, labels)
        if self.jitter:
            factors = [self._uniform(1 - self.jitter, 1 + self.jitter) for _ in range(3)]
            image = jitter_colour(image, *factors)
        return (image, *labels.unbind(0))
