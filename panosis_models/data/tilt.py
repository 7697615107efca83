"""Tilted panoramas made from level ones, real or synthetic: each item turned by its own seeded
pitch and roll (``equiconv.rotate``: the image bilinear, the label and instance maps nearest), as
a camera that is not level would have recorded it. With the seed of a synthetic set the angles
are the ones its renderer draws for a tilted set (``SyntheticPanoramas(tilted=True)``), so the
two can be compared."""
import random

from torch.utils.data import Dataset

from equiconv.resampling import rotate_together, rotation_matrix
from panosis_models.data.datasets import MAX_TILT, derive_seed


class TiltedPanoramas(Dataset):
    """``dataset``'s items ``(image, labels, *maps)`` turned by seeded angles up to ``max_tilt``."""

    def __init__(self, dataset: Dataset, seed: int, max_tilt: float = MAX_TILT):
        if not 0 <= max_tilt <= 90:
            raise ValueError(f"max_tilt must lie in [0, 90] degrees, got {max_tilt!r}")
        self.dataset, self.seed, self.max_tilt = dataset, seed, max_tilt

    def __len__(self):
        return len(self.dataset)

    def angles(self, index: int) -> tuple:
        """(pitch, roll) in degrees of item ``index``."""
        view = random.Random(derive_seed(self.seed, index, "view"))
        return view.uniform(-self.max_tilt, self.max_tilt), view.uniform(-self.max_tilt, self.max_tilt)

    def __getitem__(self, index: int):
        image, labels, *maps = self.dataset[index]
        pitch, roll = self.angles(index)
        return rotate_together(rotation_matrix(pitch=pitch, roll=roll), image, labels, *maps)
