"""Panoramas turned so that a thing crosses the +-180 degree seam: the test of whether a model
keeps an instance whole where the image's left and right edges meet. Turning the camera (a roll
in longitude) keeps a panorama valid, so the turned item is as real as the rendered one."""
import torch

from .panoptic_targets import instance_centres


def roll_to_seam(image: torch.Tensor, fine: torch.Tensor, instances: torch.Tensor, *more: torch.Tensor):
    """``(image (3, H, W), fine (H, W), instances (H, W), *more maps)`` all rolled in longitude so
    that the centre (on the sphere) of the largest thing instance lies in column 0, its pixels on
    both sides of the seam; an item without things comes back as it is."""
    ids, _, columns = instance_centres(instances)
    if not len(ids):
        return (image, fine, instances, *more)
    areas = torch.stack([(instances == k).sum() for k in ids])
    shift = -int(columns[areas.argmax()])
    return tuple(t.roll(shift, dims=-1) for t in (image, fine, instances, *more))
