"""The fine label level: the 19 Cityscapes training classes (train ids 0-18, 255 void), their
official colours, and the one table that maps each to its CVRG-Pano category. Instance maps follow
Cityscapes' ``instanceIds``: a thing pixel holds ``train_id * 1000 + k``, a stuff pixel its train
id, void 255; fine labels and categories are derived from them here and nowhere else."""
import numpy as np
import torch

from .palette import CONSTRUCTION, FLAT, NATURE, OBJECT, PERSON, SKY, UNLABELLED, VEHICLE

VOID = 255
INSTANCE_STRIDE = 1000  # thing pixels hold train_id * INSTANCE_STRIDE + k

# (train id, name, colour, CVRG-Pano category), in train-id order
FINE_CLASSES = (
    (0, "road", (128, 64, 128), FLAT),
    (1, "sidewalk", (244, 35, 232), FLAT),
    (2, "building", (70, 70, 70), CONSTRUCTION),
    (3, "wall", (102, 102, 156), CONSTRUCTION),
    (4, "fence", (190, 153, 153), CONSTRUCTION),
    (5, "pole", (153, 153, 153), OBJECT),
    (6, "traffic light", (250, 170, 30), OBJECT),
    (7, "traffic sign", (220, 220, 0), OBJECT),
    (8, "vegetation", (107, 142, 35), NATURE),
    (9, "terrain", (152, 251, 152), NATURE),
    (10, "sky", (70, 130, 180), SKY),
    (11, "person", (220, 20, 60), PERSON),
    (12, "rider", (255, 0, 0), PERSON),
    (13, "car", (0, 0, 142), VEHICLE),
    (14, "truck", (0, 0, 70), VEHICLE),
    (15, "bus", (0, 60, 100), VEHICLE),
    (16, "train", (0, 80, 100), VEHICLE),
    (17, "motorcycle", (0, 0, 230), VEHICLE),
    (18, "bicycle", (119, 11, 32), VEHICLE),
)
(ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, TRAFFIC_LIGHT, TRAFFIC_SIGN, VEGETATION, TERRAIN,
 SKY_FINE, PERSON_FINE, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE) = range(19)
NUM_FINE = len(FINE_CLASSES)
FINE_NAMES = tuple(name for _, name, _, _ in FINE_CLASSES)
FINE_COLOURS = np.array([colour for _, _, colour, _ in FINE_CLASSES], dtype=np.uint8)
THINGS = tuple(range(PERSON_FINE, NUM_FINE))  # classes with instances: person .. bicycle

# category of each train id, and of void at index VOID (a 256-entry lookup table)
CATEGORY_OF = torch.full((256,), UNLABELLED, dtype=torch.int64)
CATEGORY_OF[:NUM_FINE] = torch.tensor([category for _, _, _, category in FINE_CLASSES])


def fine_from_instances(instances: torch.Tensor) -> torch.Tensor:
    """Train ids (0-18, 255 void) of an instance map, int64."""
    instances = instances.long()
    return torch.where(instances >= INSTANCE_STRIDE, instances // INSTANCE_STRIDE, instances)


def categories_from_fine(fine: torch.Tensor) -> torch.Tensor:
    """CVRG-Pano categories (0-7) of train ids (0-18, 255 void), int64."""
    fine = fine.long()
    bad = ((fine < 0) | (fine >= NUM_FINE)) & (fine != VOID)
    if bad.any():
        raise ValueError(f"train ids must lie in 0..{NUM_FINE - 1} or be {VOID}: "
                         f"{int(bad.sum())} pixels are not, e.g. {int(fine[bad][0])}")
    return CATEGORY_OF.to(fine.device)[fine]


def check_instances(instances: torch.Tensor, num_classes: int = NUM_FINE, things: tuple = THINGS) -> None:
    """Refuses an instance map with ids outside the convention: below 1000 a train id or void
    (a thing's train id alone marks a crowd, as in Cityscapes), from 1000 a thing's
    ``train_id * 1000 + k`` (train ids ``0 .. num_classes - 1``, the ``things`` with instances)."""
    instances = instances.long()
    fine = fine_from_instances(instances)
    thing = torch.zeros(num_classes + 1, dtype=torch.bool)
    thing[list(things)] = True
    known = (fine >= 0) & (fine < num_classes)
    large = instances >= INSTANCE_STRIDE
    ok = (known | (instances == VOID)) & (~large | (known & thing[fine.clamp(0, num_classes)]))
    if not ok.all():
        raise ValueError(f"instance ids must be train ids 0..{num_classes - 1}, {VOID}, or a thing's "
                         f"train id * {INSTANCE_STRIDE} + k: {int((~ok).sum())} pixels are not, "
                         f"e.g. {int(instances[~ok][0])}")


def fine_to_colour(fine: np.ndarray) -> np.ndarray:
    """Train ids (H, W) -> Cityscapes colours (H, W, 3) uint8 RGB; void black."""
    colours = np.zeros((256, 3), dtype=np.uint8)
    colours[:NUM_FINE] = FINE_COLOURS
    return colours[np.asarray(fine).astype(np.int64).clip(0, 255)]
