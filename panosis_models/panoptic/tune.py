"""Post-processing chosen on validation panoramas, never on test ones: of Panoptic-DeepLab's
setting and a grid of groupings, centre thresholds and suppression windows, the one with the
best PQ of the things of at least ``quality.MIN_AREA`` px. The network runs once per batch; every
candidate reads the same outputs. At small sizes the paper's threshold and window (made for
1024 x 2048 Cityscapes images) leave several peaks on one car."""
import torch
from torch.utils.data import DataLoader, Dataset

from panosis_models.engine.loop import autocast
from panosis_models.panoptic.levels import FINE, PanopticLevel
from panosis_models.panoptic.postprocess import GROUPINGS, PostProcessing
from panosis_models.panoptic.quality import PanopticQuality

THRESHOLDS = (0.1, 0.2, 0.3, 0.5)
WINDOWS = (3, 5, 7)


def candidates() -> list:
    """Panoptic-DeepLab's setting first (so it wins ties), then the grid."""
    return [PostProcessing()] + [PostProcessing(g, t, w) for g in GROUPINGS for t in THRESHOLDS for w in WINDOWS]


@torch.no_grad()
def choose(model, dataset: Dataset, level: PanopticLevel = FINE, batch_size: int = 8, device="cpu",
           amp: bool = False) -> tuple:
    """(the best PostProcessing, {candidate: PQ of the visible things}) of ``model`` over
    ``dataset`` (items ``(image, labels, instances, ...)`` at ``level``); Panoptic-DeepLab's setting
    when ``dataset`` is empty or no candidate finds a thing."""
    was_training = model.training
    model.eval()
    options = candidates()
    totals = [PanopticQuality(level) for _ in options]
    for images, _, instances, *_ in DataLoader(dataset, batch_size=batch_size):
        with autocast(torch.device(device), amp):
            outputs = model(images.to(device))
        outputs = {name: value.float().cpu() for name, value in outputs.items()}
        for option, total in zip(options, totals):
            total.add(option(outputs, level.things), instances)
    model.train(was_training)
    scores = {option: (total.report()["visible"]["pixel"]["things"]["pq"] or 0.0) if len(dataset) else 0.0
              for option, total in zip(options, totals)}
    return max(options, key=lambda option: scores[option]), scores
