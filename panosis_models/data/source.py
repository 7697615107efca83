"""The data a segmentation or panoptic run learns from (``DataSource``, fields of its saved
config): synthetic renderings or a folder, their seeded disjoint split, and the held-out part
an evaluation scores. A panoptic run reads the same data with instance ids."""
import dataclasses
from dataclasses import dataclass

from torch.utils.data import ConcatDataset, Dataset, Subset

from panosis_models.data.cityscapes_pairs import SPLITS as PAIR_SPLITS, CityscapesPairs
from panosis_models.data.datasets import PanoramaFolder, SyntheticPanoramas, split_indices
from panosis_models.errors import InputError
from panosis_models.metrics import LEVELS, Level
from panosis_models.models.convs import check_network_size

VIEWS = ("panorama", "perspective")
LAYOUTS = ("cvrg-pano", "cityscapes-pairs")  # what a data folder holds
SPLIT_NAMES = ("train", "val", "test", "all")  # the parts of ``split`` in its order, then the whole
# the fields a resumed run must keep (with the run's seed, which splits them)
DATA_DEFINING = ("data", "layout", "view", "num", "data_seed", "size", "fov", "colour_masks", "labels", "split")


@dataclass
class DataSource:
    """Where a run's items come from and how they are split (with the run's ``seed``)."""
    data: str = "synthetic"           # "synthetic" or a folder
    layout: str = "cvrg-pano"         # a folder's layout: rgb/ + mask/ (or labels/), or train/ + val/ pairs
    view: str = "panorama"            # synthetic data: "panorama" or "perspective"
    num: int = 200                    # synthetic data: number of rendered items
    data_seed: int = 0                # synthetic data: which worlds
    size: tuple = (128, 256)          # (H, W) of the network input
    fov: float = 90.0                 # perspective views: horizontal field of view
    colour_masks: bool = False        # a folder's masks are palette colours, not label indices
    labels: str = "category"          # "category" (CVRG-Pano 0-7) or "fine" (Cityscapes train ids)
    split: tuple = (0.8, 0.1, 0.1)

    def check_data(self) -> None:
        """What its data fields (data, layout, view, labels) must hold; an evaluation on other
        data checks them too."""
        if self.layout not in LAYOUTS:
            raise InputError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.layout != LAYOUTS[0] and self.data == "synthetic":
            raise InputError(f"layout {self.layout!r} describes a folder: pass it as data (a cityscapes-pairs "
                             "root holds train/ and val/)")
        if self.view not in VIEWS:
            raise InputError(f"view must be one of {VIEWS}, got {self.view!r}")
        if self.labels not in LEVELS:
            raise InputError(f"labels must be one of {tuple(LEVELS)}, got {self.labels!r}")

    @property
    def label_level(self) -> Level:
        """The label level of its masks (what a network learns from them, how it is scored)."""
        return LEVELS[self.labels]


def make_dataset(cfg: DataSource, instances: bool = False) -> Dataset:
    """The run's data as a whole: ``(image, mask)`` items, with ``instances`` ``(image, mask,
    instance ids)`` (a cityscapes-pairs folder, which has none: its train/ items, then its val/
    ones), every file checked before any training or evaluation."""
    if cfg.data == "synthetic":
        return SyntheticPanoramas(cfg.num, *cfg.size, seed=cfg.data_seed, cache_dir=cfg.cache_dir,
                                  kind=cfg.view, fov_deg=cfg.fov, labels=cfg.labels, instances=instances)
    if cfg.layout == "cityscapes-pairs":
        if instances:
            raise InputError("a cityscapes-image-pairs folder has no instance ids")
        parts = [CityscapesPairs(cfg.data, part, labels=cfg.labels, size=cfg.size) for part in PAIR_SPLITS]
    else:
        parts = [PanoramaFolder(cfg.data, size=cfg.size, colour_masks=cfg.colour_masks, labels=cfg.labels,
                                instances=instances)]
    for part in parts:
        part.verify()
    return parts[0] if len(parts) == 1 else ConcatDataset(parts)


def split(cfg: DataSource, instances: bool = False) -> tuple:
    """(train, val, test) subsets of the run's data (``make_dataset``'s): its seeded, disjoint
    split; a cityscapes-pairs folder keeps its own (train/ trains, val/ validates and tests, as
    with the real set, whose test labels are not public)."""
    data = make_dataset(cfg, instances)
    if cfg.layout == "cityscapes-pairs":
        n_train = len(data.datasets[0])
        val = Subset(data, range(n_train, len(data)))
        return Subset(data, range(n_train)), val, val
    return tuple(Subset(data, part) for part in split_indices(len(data), cfg.split, seed=cfg.seed))


def split_named(cfg: DataSource, name: str = "test", instances: bool = False) -> Dataset:
    """The part ``name`` of the run's data, as ``split`` makes it ("train", "val" or "test", the
    held-out one), or "all" of it (``make_dataset``'s)."""
    if name not in SPLIT_NAMES:
        raise InputError(f"split must be one of {SPLIT_NAMES}, got {name!r}")
    return make_dataset(cfg, instances) if name == "all" else split(cfg, instances)[SPLIT_NAMES.index(name)]


def evaluation_data(cfg: DataSource, split: str = "test", instances: bool = False, **overrides) -> Dataset:
    """The part ``split`` of the run's data (``split_named``: by default the held-out test part,
    "all" for the whole), with ``overrides`` of its data fields (data, layout, view, num,
    data_seed, size, colour_masks) of those data, split as the run split its own: an override
    equal to the run's own changes nothing. The data and the size are checked against the
    run's network (``cfg.network()``) before anything is read or rendered. ``instances``:
    items with instance ids."""
    cfg = dataclasses.replace(cfg, **overrides)
    cfg.check_data()
    check_network_size(cfg)
    return split_named(cfg, split, instances)
