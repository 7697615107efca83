"""The label levels a panoptic network can learn, each with its thing classes, and the turning of
a Cityscapes instance map (fine train ids) into a level's: labels ``0 .. classes-1``, a thing
pixel ``label * 1000 + k``, a crowd its bare label, void 255, so that every panoptic step keeps
one convention. ``fine``: the 19 Cityscapes classes, 8 of them things. ``category``: CVRG-Pano's
7 categories (unlabelled becomes void), things person and vehicle; on small panoramas a vehicle
is often a few pixels split over six look-alike fine classes, so the category level is the one
a small network can find things at."""
from dataclasses import dataclass

import numpy as np
import torch

from panosis_models.data.cityscapes import (CATEGORY_OF, FINE_COLOURS, FINE_NAMES, INSTANCE_STRIDE, THINGS,
                                            VOID, fine_from_instances)
from panosis_models.data.palette import CLASS_NAMES, PALETTE, PERSON, VEHICLE
from panosis_models.errors import InputError
from panosis_models.metrics import Level


@dataclass(frozen=True, eq=False)
class PanopticLevel:
    name: str
    names: tuple          # class names by label
    things: tuple         # labels with instances
    colours: np.ndarray   # (classes, 3) uint8, by label

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def metrics(self) -> Level:
        """The level as the semantic metrics see it (void 255 never scored)."""
        return Level(self.name, self.names + ("void",), ignore=self.num_classes, void=VOID,
                     num_outputs=self.num_classes)

    def instances(self, fine: torch.Tensor) -> torch.Tensor:
        """This level's instance map of an (H, W) fine-level one."""
        if self.name == "fine":
            return fine.long()
        fine = fine.long()
        label = CATEGORY_OF.to(fine.device)[fine_from_instances(fine)] - 1  # unlabelled -> -1
        out = torch.where(label < 0, VOID, label)
        thing = fine >= INSTANCE_STRIDE
        ids, owner = torch.unique(fine[thing], return_inverse=True)
        id_label = CATEGORY_OF.to(fine.device)[ids // INSTANCE_STRIDE] - 1
        k = torch.tril(id_label[None, :] == id_label[:, None], diagonal=-1).sum(1)  # earlier ids of its class
        out[thing] = (id_label * INSTANCE_STRIDE + k)[owner]
        return out

    def item(self, image: torch.Tensor, fine: torch.Tensor, instances: torch.Tensor) -> tuple:
        """``(image, fine, instances)`` -> ``(image, labels, instances)`` at this level."""
        instances = self.instances(instances)
        return image, fine_from_instances(instances), instances


FINE = PanopticLevel("fine", FINE_NAMES, THINGS, FINE_COLOURS)
CATEGORY = PanopticLevel("category", CLASS_NAMES[1:], (PERSON - 1, VEHICLE - 1), PALETTE[1:])
LEVELS = {level.name: level for level in (FINE, CATEGORY)}


def level_named(name: str) -> PanopticLevel:
    if name not in LEVELS:
        raise InputError(f"level must be one of {tuple(LEVELS)}, got {name!r}")
    return LEVELS[name]
