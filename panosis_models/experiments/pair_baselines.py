"""What one annotated panorama predicts without training anything: the non-learned segmenters the
one-pair routes (a U-Net on the pair, on a generated set with the pair) must beat, scored on the
same test panoramas. They are the multi-class forms of ``oneshot.baselines``:

- ``Copied``: the pair's mask laid on every test panorama;
- ``ColourInRows``: each pixel takes the class whose mean colour in the pair is nearest (squared
  RGB distance), among the classes the pair's mask shows in that image row (all of its classes
  in a row that shows none): the layout of a level camera, which a tilted one breaks.

Each is a module without parameters, ``images (N, 3, H, W) in [0, 1] -> logits (N, classes, H,
W)``, so ``segmentation.evaluate`` scores it as it scores a network."""
import torch
import torch.nn.functional as F
from torch import nn

from panosis_models.metrics import CATEGORY, Level
from panosis_models.models.episodic import mean_colour

COPIED, COLOUR_IN_ROWS = "pair mask copied", "colour in pair rows"


def _check_size(images: torch.Tensor, size) -> None:
    if tuple(images.shape[-2:]) != tuple(size):
        raise ValueError(f"images must be {size[0]}x{size[1]} like the pair, got {tuple(images.shape[-2:])}")


class Copied(nn.Module):
    """The pair's labels (H, W) as every image's prediction."""

    def __init__(self, labels: torch.Tensor, level: Level = CATEGORY):
        super().__init__()
        self.register_buffer("logits", F.one_hot(labels.long(), level.num_outputs).movedim(-1, 0).float())

    def forward(self, images):
        _check_size(images, self.logits.shape[-2:])
        return self.logits.expand(len(images), -1, -1, -1)


class ColourInRows(nn.Module):
    """Nearest class-mean colour of the pair's ``image`` (3, H, W) in [0, 1], restricted per row to
    the classes its ``labels`` (H, W) show there (void pixels count for no class)."""

    def __init__(self, image: torch.Tensor, labels: torch.Tensor, level: Level = CATEGORY):
        super().__init__()
        classes = [c for c in labels.unique().tolist() if c != level.void]
        if not classes:
            raise ValueError("the pair's mask has no labelled pixel")
        masks = labels[None] == torch.tensor(classes)[:, None, None]  # (C, H, W)
        rows = masks.any(-1)
        rows[:, ~rows.any(0)] = True
        self.num_outputs = level.num_outputs
        self.register_buffer("classes", torch.tensor(classes))
        self.register_buffer("means", mean_colour(image[None].expand(len(classes), -1, -1, -1).float(), masks))
        self.register_buffer("rows", rows)

    def forward(self, images):
        _check_size(images, (self.rows.shape[1], images.shape[-1]))
        distances = ((images[:, None] - self.means[None, :, :, None, None]) ** 2).sum(2)  # (N, C, H, W)
        scores = (-distances).masked_fill(~self.rows[None, :, :, None], -torch.inf)
        logits = scores.new_full((len(images), self.num_outputs, *images.shape[-2:]), -torch.inf)
        logits[:, self.classes] = scores
        return logits


def pair_baselines(image: torch.Tensor, labels: torch.Tensor, level: Level = CATEGORY) -> dict:
    """{name: predictor} of every non-learned segmenter from the pair (image in [0, 1])."""
    return {COPIED: Copied(labels, level), COLOUR_IN_ROWS: ColourInRows(image, labels, level)}
