"""Torch data sets of ``(image float32 (3, H, W) in [0, 1], mask int64 (H, W))`` pairs: the
rendered synthetic streets (the built-in default, cached on disk), a CVRG-Pano or Cityscapes
style folder, a seeded disjoint split, and a wrapper that applies a joint augmentation.

Masks come at the level asked for, ``labels="category"`` (CVRG-Pano 0-7) or ``"fine"``
(Cityscapes train ids 0-18, 255 void); with ``instances=True`` items are triples
``(image, mask, instance ids int64 (H, W))``."""
import hashlib
import os
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from tqdm import tqdm

from panosis_models.atomic import save_atomically
from panosis_models.data._checks import check_fov, check_int, check_size
from panosis_models.data.cityscapes import categories_from_fine
from panosis_models.data.pngfiles import (check_index_mode, check_same_size, png_files, png_header, read_instances,
                                          read_mask, read_rgb, read_train_ids)
from panosis_models.data.render import RENDERER_VERSION, labels_at, render_panorama, render_perspective
from panosis_models.data.world import World
from panosis_models.errors import InputError

KINDS = ("panorama", "perspective")
LABEL_LEVELS = ("category", "fine")
MAX_PITCH = 10.0  # degrees up or down for perspective items
MAX_TILT = 30.0   # degrees of pitch or roll a tilted panorama may have
CACHE_FORMAT = 2  # what a cached item holds: bump when it changes (1: category masks only)


def check_labels(labels: str) -> str:
    if labels not in LABEL_LEVELS:
        raise ValueError(f"labels must be one of {LABEL_LEVELS}, got {labels!r}")
    return labels


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/equiconv/synthetic``, ``~/.cache/equiconv/synthetic`` by default."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "equiconv" / "synthetic"


def derive_seed(*parts) -> int:
    """A 63-bit seed from any parts (stable across runs and platforms, unlike ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class SyntheticPanoramas(Dataset):
    """``num`` rendered streets. Item i comes from the world seeded by ``derive_seed(seed, i)``;
    perspective items look in a random direction (any yaw, pitch within +-10 degrees), drawn
    from the item's seed too; with ``tilted=True`` panoramas come from a camera pitched and
    rolled by up to +-30 degrees (drawn the same way). Images are stored as 8-bit colour, so a
    cached item and a freshly rendered one are identical. Items are cached (image and instance
    ids, from which both label levels follow) under ``cache_dir`` in a folder named after every
    parameter, the renderer version and the cache format; an item of another format is
    rendered again, never misread."""

    def __init__(self, num: int, height: int, width: int, seed: int = 0, cache_dir=None,
                 kind: str = "panorama", fov_deg: float = 90.0, labels: str = "category",
                 instances: bool = False, tilted: bool = False):
        num, height, width = (check_int("num", num, minimum=0), check_int("height", height),
                              check_int("width", width))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if tilted and kind != "panorama":
            raise ValueError(f"tilted applies to panoramas only, got kind={kind!r}")
        self.num, self.height, self.width, self.seed = num, height, width, seed
        self.kind, self.fov_deg, self.tilted = kind, check_fov(fov_deg), bool(tilted)
        self.labels, self.instances = check_labels(labels), bool(instances)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    def key(self) -> str:
        """The cache folder's name: every parameter that changes the pixels."""
        view = f"-fov{self.fov_deg:g}" if self.kind == "perspective" else ""
        view += f"-tilt{MAX_TILT:g}" if self.tilted else ""
        return (f"{self.kind}{view}-{self.height}x{self.width}-seed{self.seed}-v{RENDERER_VERSION}"
                f"-f{CACHE_FORMAT}")

    def cache_path(self, index: int) -> Path:
        return self.cache_dir / self.key() / f"{index:07d}.pt"

    def __len__(self):
        return self.num

    def render(self, index: int) -> dict:
        """Item ``index`` rendered now: {"format": CACHE_FORMAT, "image": uint8 (3, H, W),
        "instances": int16 (H, W)}."""
        world = World.random(derive_seed(self.seed, index))
        view = random.Random(derive_seed(self.seed, index, "view"))
        if self.kind == "panorama" and self.tilted:
            image, ids = render_panorama(world, self.height, self.width,
                                         pitch=view.uniform(-MAX_TILT, MAX_TILT),
                                         roll=view.uniform(-MAX_TILT, MAX_TILT), level="instance")
        elif self.kind == "panorama":
            image, ids = render_panorama(world, self.height, self.width, level="instance")
        else:
            image, ids = render_perspective(world, self.height, self.width, self.fov_deg,
                                            yaw=view.uniform(0, 360),
                                            pitch=view.uniform(-MAX_PITCH, MAX_PITCH),
                                            level="instance")
        return {"format": CACHE_FORMAT, "image": (image * 255).round().to(torch.uint8),
                "instances": ids.to(torch.int16)}

    def _item(self, item: dict):
        ids = item["instances"].long()
        pair = item["image"].float() / 255, labels_at(ids, self.labels)
        return (*pair, ids) if self.instances else pair

    def __getitem__(self, index: int):
        if not 0 <= index < self.num:
            raise IndexError(f"index {index} out of range for {self.num} items")
        path = self.cache_path(index)
        if path.exists():
            item = torch.load(path, weights_only=True)
            if item.get("format") == CACHE_FORMAT:
                return self._item(item)
        item = self.render(index)
        save_atomically(item, path)
        return self._item(item)


TEST_SEED = 10_000  # worlds of the held-out test panoramas: no training run draws from them


def held_out_panoramas(num: int, size, seed: int, cache_dir=None, **options) -> SyntheticPanoramas:
    """``num`` synthetic panoramas of worlds no training run sees (rendered when first read), the
    ``seed``-th such set; ``options`` as SyntheticPanoramas takes them (labels, instances, tilted)."""
    return SyntheticPanoramas(num, *size, seed=TEST_SEED + seed, cache_dir=cache_dir, **options)


def validation_panoramas(num: int, size, seed: int, cache_dir=None, **options) -> SyntheticPanoramas:
    """``num`` synthetic panoramas of worlds apart from the training worlds of ``seed`` and from
    the held-out test ones, for choosing settings; ``options`` as SyntheticPanoramas takes them."""
    return SyntheticPanoramas(num, *size, seed=derive_seed(seed, "validation"), cache_dir=cache_dir, **options)


def prerender(dataset: SyntheticPanoramas, progress: bool = True) -> None:
    """Render and cache every item not cached yet, with a progress bar."""
    missing = [i for i in range(len(dataset)) if not dataset.cache_path(i).exists()]
    for index in tqdm(missing, desc=f"rendering {dataset.key()}", disable=not progress):
        dataset[index]


def resize_pair(image: torch.Tensor, mask: torch.Tensor, size):
    """Resize to ``size`` = (H, W): bilinear (antialiased) for the image, nearest for the mask,
    both with pixel centres kept on the equirectangular grid."""
    return resize_image(image, size), resize_mask(mask, size)


def resize_image(image: torch.Tensor, size) -> torch.Tensor:
    """Bilinear (antialiased) resize of a (3, H, W) image in [0, 1]."""
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False,
                         antialias=True)[0].clamp(0, 1)


def resize_mask(mask: torch.Tensor, size) -> torch.Tensor:
    """Nearest-neighbour resize of a label or instance map (H, W) with pixel centres kept on
    the equirectangular grid (exact for ids below 2**24)."""
    return F.interpolate(mask[None, None].float(), size=size, mode="nearest-exact")[0, 0].long()


MASK_FOLDERS = {"category": "mask", "fine": "labels"}
INSTANCE_FOLDER = "instances"


class PanoramaFolder(Dataset):
    """A folder of panoramas paired by file stem: ``root/rgb/*.png`` images with, at the
    category level, ``root/mask/*.png`` CVRG-Pano masks (single-channel label PNGs 0-7, or
    palette colours with ``colour_masks=True``), or, at the fine level (Cityscapes style),
    ``root/labels/*.png`` train ids (0-18, 255 void); with ``instances=True`` also
    ``root/instances/*.png`` instance ids (16-bit PNGs). A folder with ``labels/`` but no
    ``mask/`` gives categories from the train ids. ``size=(H, W)`` resizes every item."""

    def __init__(self, root, size=None, colour_masks: bool = False, labels: str = "category",
                 instances: bool = False):
        root = Path(root)
        self.labels, self.instances, self.colour_masks = check_labels(labels), bool(instances), colour_masks
        if colour_masks and labels == "fine":
            raise ValueError("colour_masks applies to CVRG-Pano category masks only, not labels='fine'")
        self.mask_folder = MASK_FOLDERS[labels]
        if labels == "category" and not (root / "mask").is_dir() and (root / "labels").is_dir():
            self.mask_folder = "labels"  # categories from the train ids
        folders = ["rgb", self.mask_folder] + ([INSTANCE_FOLDER] if instances else [])
        files = [self._pngs(root / name, folders) for name in folders]
        images = files[0]
        for other, name in zip(files[1:], folders[1:]):
            for have, partner, folder in ((images, other, root / name), (other, images, root / "rgb")):
                orphans = sorted(have.keys() - partner.keys())
                if orphans:
                    raise InputError(f"{have[orphans[0]]} has no partner {folder / orphans[0]}.png "
                                     f"({len(orphans)} unpaired in {have[orphans[0]].parent})")
        if not images:
            raise InputError(f"no PNG files in {root / 'rgb'}")
        self.items = [tuple(f[stem] for f in files) for stem in sorted(images)]
        self.size = check_size(size)

    @staticmethod
    def _pngs(folder: Path, expected) -> dict:
        if not folder.is_dir():
            wanted = " and ".join(f"root/{name}" for name in expected)
            raise InputError(f"{folder} is not a folder (expected {wanted})")
        return {path.stem: path for path in png_files(folder)}

    def verify(self) -> None:
        """Checks every item now, cheaply (headers and checksums, nothing decoded): each file
        whole and readable, each mask of its image's size and of the expected kind. A job calls
        it before its first expensive step."""
        for image_path, *masks in self.items:
            image_size, _ = png_header(image_path)
            for k, mask_path in enumerate(masks):
                mask_size, mode = png_header(mask_path)
                check_same_size(image_path, image_size, mask_path, mask_size)
                if k or not self.colour_masks:
                    check_index_mode(mask_path, mode)

    def __len__(self):
        return len(self.items)

    def _mask(self, path: Path) -> torch.Tensor:
        if self.mask_folder == "mask":
            return torch.from_numpy(read_mask(path, colour=self.colour_masks).astype("int64"))
        fine = torch.from_numpy(read_train_ids(path).astype("int64"))
        return fine if self.labels == "fine" else categories_from_fine(fine)

    def __getitem__(self, index: int):
        image_path, mask_path, *instance_path = self.items[index]
        image = torch.from_numpy(read_rgb(image_path).copy()).permute(2, 0, 1).float() / 255
        maps = [self._mask(mask_path)]
        if instance_path:
            maps.append(torch.from_numpy(read_instances(instance_path[0]).astype("int64")))
        for path, labels in zip((mask_path, *instance_path), maps):
            check_same_size(image_path, image.shape[:0:-1], path, labels.shape[::-1])
        if self.size:
            image, maps = resize_image(image, self.size), [resize_mask(m, self.size) for m in maps]
        return (image, *maps)


def read_pair(image_path, mask_path, colour=False, size=None):
    """(image float32 (3, H, W) in [0, 1], mask int64 (H, W)) from PNG files, resized to
    ``size`` = (H, W) if given; ``colour`` as for ``read_mask``."""
    image_path, mask_path = Path(image_path), Path(mask_path)
    image, mask = read_rgb(image_path), read_mask(mask_path, colour=colour)
    check_same_size(image_path, image.shape[1::-1], mask_path, mask.shape[::-1])
    image = torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 255
    mask = torch.from_numpy(mask.astype("int64"))
    return resize_pair(image, mask, size) if size else (image, mask)


def split_indices(n: int, fractions=(0.8, 0.1, 0.1), seed: int = 0):
    """Seeded (train, val, test) lists of indices: disjoint, together exactly range(n), each
    sorted. Sizes are the rounded fractions of n, the test set taking the rest."""
    n = check_int("n", n, minimum=0)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, "
                         f"got {fractions!r}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    n_train = round(fractions[0] * n)
    n_val = min(round(fractions[1] * n), n - n_train)
    parts = order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]
    return tuple(sorted(part) for part in parts)


class Transformed(Dataset):
    """``dataset`` with ``transform(image, mask)`` applied to every item, e.g.
    ``Transformed(Subset(data, train), PanoramaAugment(seed=0))``."""

    def __init__(self, dataset, transform):
        self.dataset, self.transform = dataset, transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.transform(*self.dataset[index])
