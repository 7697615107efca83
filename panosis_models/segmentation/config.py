"""What defines a segmentation run (``TrainConfig``, saved in its checkpoints) and what follows
from it: its data, the seeded disjoint split and the model."""
from dataclasses import dataclass, field

from torch.utils.data import ConcatDataset, Dataset, Subset

from panosis_models.engine.config import JobConfig, check_network_run, default_device
from panosis_models.data import PanoramaFolder, SyntheticPanoramas, split_indices
from panosis_models.data.cityscapes_pairs import SPLITS as PAIR_SPLITS, CityscapesPairs
from panosis_models.errors import InputError
from panosis_models.metrics import LEVELS, Level
from panosis_models.models.pspnet import PRESETS, PSPNet
from panosis_models.models.unet import UNet

VIEWS = ("panorama", "perspective")
LAYOUTS = ("cvrg-pano", "cityscapes-pairs")  # what a data folder holds
MODELS = ("unet", "pspnet")
SPLIT_NAMES = ("train", "val", "test", "all")  # the parts of ``split`` in its order, then the whole


@dataclass
class TrainConfig(JobConfig):
    """Everything that defines a run; saved in its checkpoints."""
    DEFINING = ("data", "layout", "view", "num", "data_seed", "size", "fov", "colour_masks", "labels", "model", "preset",
                "conv", "channels", "batch_norm", "split", "seed")

    out: str = "runs/unet"
    data: str = "synthetic"           # "synthetic" or a folder
    layout: str = "cvrg-pano"         # a folder's layout: rgb/ + mask/ (or labels/), or train/ + val/ pairs
    view: str = "panorama"            # synthetic data: "panorama" or "perspective"
    num: int = 200                    # synthetic data: number of rendered items
    data_seed: int = 0                # synthetic data: which worlds
    size: tuple = (128, 256)          # (H, W) of the network input
    fov: float = 90.0                 # perspective views: horizontal field of view
    colour_masks: bool = False        # a folder's masks are palette colours, not label indices
    labels: str = "category"          # "category" (CVRG-Pano 0-7) or "fine" (Cityscapes train ids)
    model: str = "unet"               # "unet" or "pspnet"
    preset: str = "small"             # PSPNet's size (models.pspnet.PRESETS)
    conv: str = "std"
    channels: tuple = (32, 64, 128, 256, 512)  # the U-Net's level widths
    batch_norm: bool = False
    epochs: int = 20
    batch_size: int = 4
    lr: float = 1e-3
    clip: float = 1.0
    split: tuple = (0.8, 0.1, 0.1)
    seed: int = 0
    augment: bool = True
    amp: bool = True                  # bfloat16 autocast on GPU (ignored on CPU)
    workers: int = 0
    device: str = field(default_factory=default_device)
    cache_dir: str = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True

    def validate(self) -> None:
        if self.model not in MODELS:
            raise InputError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.preset not in PRESETS:
            raise InputError(f"preset must be one of {tuple(PRESETS)}, got {self.preset!r}")
        if self.model == "pspnet" and self.batch_size < 2:
            raise InputError("--batch-size must be at least 2 for PSPNet: BatchNorm cannot normalise one item "
                             f"in its 1x1 pyramid bin (got {self.batch_size})")
        self.check_data()
        check_network_run(self)

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

    def network(self):
        """Its network, untrained (what checks of its size build, on the meta device)."""
        return build_model(self)


def make_dataset(cfg: TrainConfig, instances: bool = False) -> Dataset:
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


def split(cfg: TrainConfig, instances: bool = False) -> tuple:
    """(train, val, test) subsets of the run's data (``make_dataset``'s): its seeded, disjoint
    split; a cityscapes-pairs folder keeps its own (train/ trains, val/ validates and tests, as
    with the real set, whose test labels are not public)."""
    data = make_dataset(cfg, instances)
    if cfg.layout == "cityscapes-pairs":
        n_train = len(data.datasets[0])
        val = Subset(data, range(n_train, len(data)))
        return Subset(data, range(n_train)), val, val
    return tuple(Subset(data, part) for part in split_indices(len(data), cfg.split, seed=cfg.seed))


def split_named(cfg: TrainConfig, name: str = "test", instances: bool = False) -> Dataset:
    """The part ``name`` of the run's data, as ``split`` makes it ("train", "val" or "test", the
    held-out one), or "all" of it (``make_dataset``'s)."""
    if name not in SPLIT_NAMES:
        raise InputError(f"split must be one of {SPLIT_NAMES}, got {name!r}")
    return make_dataset(cfg, instances) if name == "all" else split(cfg, instances)[SPLIT_NAMES.index(name)]


def level_of(cfg: TrainConfig) -> Level:
    """The run's label level (what its network predicts and how it is scored)."""
    return LEVELS[cfg.labels]


def build_model(cfg: TrainConfig):
    if cfg.model == "pspnet":
        return PSPNet(num_classes=level_of(cfg).num_outputs, preset=cfg.preset, conv=cfg.conv)
    return UNet(num_classes=level_of(cfg).num_outputs, conv=cfg.conv, channels=cfg.channels,
                batch_norm=cfg.batch_norm)
