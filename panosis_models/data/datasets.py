"""Torch data sets of ``(image float32 (3, H, W) in [0, 1], mask int64 (H, W))`` pairs: the
rendered synthetic streets (the built-in default, cached on disk), a CVRG-Pano style folder, a
seeded disjoint split, and a wrapper that applies a joint augmentation."""
import hashlib
import os
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from tqdm import tqdm

from panosis_models.atomic import save_atomically
from panosis_models.data._checks import check_fov, check_int
from panosis_models.data.pngfiles import (check_index_mode, check_same_size, png_files, png_header, read_mask,
                                          read_rgb)
from panosis_models.data.render import RENDERER_VERSION, render_panorama, render_perspective
from panosis_models.data.world import World
from panosis_models.errors import InputError

KINDS = ("panorama", "perspective")
MAX_PITCH = 10.0  # degrees up or down for perspective items


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/equiconv/synthetic``, ``~/.cache/equiconv/synthetic`` by default."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "equiconv" / "synthetic"


def derive_seed(*parts) -> int:
    """A 63-bit seed from any parts (stable across runs and platforms, unlike ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _as_pair(item: dict):
    return item["image"].float() / 255, item["mask"].long()


class SyntheticPanoramas(Dataset):
    """``num`` rendered streets. Item i comes from the world seeded by ``derive_seed(seed, i)``;
    perspective items look in a random direction (any yaw, pitch within +-10 degrees), drawn
    from the item's seed too. Images are stored as 8-bit colour, so a cached item and a freshly
    rendered one are identical. Items are cached under ``cache_dir`` in a folder named after
    every parameter and the renderer version."""

    def __init__(self, num: int, height: int, width: int, seed: int = 0, cache_dir=None,
                 kind: str = "panorama", fov_deg: float = 90.0):
        num, height, width = (check_int("num", num, minimum=0), check_int("height", height),
                              check_int("width", width))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.num, self.height, self.width, self.seed = num, height, width, seed
        self.kind, self.fov_deg = kind, check_fov(fov_deg)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    def key(self) -> str:
        """The cache folder's name: every parameter that changes the pixels."""
        view = f"-fov{self.fov_deg:g}" if self.kind == "perspective" else ""
        return f"{self.kind}{view}-{self.height}x{self.width}-seed{self.seed}-v{RENDERER_VERSION}"

    def cache_path(self, index: int) -> Path:
        return self.cache_dir / self.key() / f"{index:07d}.pt"

    def __len__(self):
        return self.num

    def render(self, index: int) -> dict:
        """Item ``index`` rendered now: {"image": uint8 (3, H, W), "mask": uint8 (H, W)}."""
        world = World.random(derive_seed(self.seed, index))
        if self.kind == "panorama":
            image, labels = render_panorama(world, self.height, self.width)
        else:
            view = random.Random(derive_seed(self.seed, index, "view"))
            image, labels = render_perspective(world, self.height, self.width, self.fov_deg,
                                               yaw=view.uniform(0, 360),
                                               pitch=view.uniform(-MAX_PITCH, MAX_PITCH))
        return {"image": (image * 255).round().to(torch.uint8), "mask": labels.to(torch.uint8)}

    def __getitem__(self, index: int):
        if not 0 <= index < self.num:
            raise IndexError(f"index {index} out of range for {self.num} items")
        path = self.cache_path(index)
        if path.exists():
            return _as_pair(torch.load(path, weights_only=True))
        item = self.render(index)
        save_atomically(item, path)
        return _as_pair(item)


def prerender(dataset: SyntheticPanoramas, progress: bool = True) -> None:
    """Render and cache every item not cached yet, with a progress bar."""
    missing = [i for i in range(len(dataset)) if not dataset.cache_path(i).exists()]
    for index in tqdm(missing, desc=f"rendering {dataset.key()}", disable=not progress):
        dataset[index]


def resize_pair(image: torch.Tensor, mask: torch.Tensor, size):
    """Resize to ``size`` = (H, W): bilinear (antialiased) for the image, nearest for the mask,
    both with pixel centres kept on the equirectangular grid."""
    image = F.interpolate(image[None], size=size, mode="bilinear", align_corners=False,
                          antialias=True)[0].clamp(0, 1)
    mask = F.interpolate(mask[None, None].float(), size=size, mode="nearest-exact")[0, 0]
    return image, mask.long()


class PanoramaFolder(Dataset):
    """CVRG-Pano layout: ``root/rgb/*.png`` images and ``root/mask/*.png`` masks paired by file
    stem. Masks are single-channel label PNGs (0-7), or palette colours with
    ``colour_masks=True``. ``size=(H, W)`` resizes every pair."""

    def __init__(self, root, size=None, colour_masks: bool = False):
        root = Path(root)
        images, masks = self._pngs(root / "rgb"), self._pngs(root / "mask")
        for have, other, folder in ((images, masks, root / "mask"), (masks, images, root / "rgb")):
            orphans = sorted(have.keys() - other.keys())
            if orphans:
                raise InputError(f"{have[orphans[0]]} has no partner {folder / orphans[0]}.png "
                                 f"({len(orphans)} unpaired in {have[orphans[0]].parent})")
        if not images:
            raise InputError(f"no PNG files in {root / 'rgb'}")
        if size is not None:
            size = tuple(size)
            if len(size) != 2:
                raise ValueError(f"size must be (height, width), got {size!r}")
            size = check_int("size[0]", size[0]), check_int("size[1]", size[1])
        self.pairs = [(images[stem], masks[stem]) for stem in sorted(images)]
        self.size, self.colour_masks = size, colour_masks

    @staticmethod
    def _pngs(folder: Path) -> dict:
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder (expected root/rgb and root/mask)")
        return {path.stem: path for path in png_files(folder)}

    def verify(self) -> None:
        """Checks every pair now, cheaply (headers and checksums, nothing decoded): each file
        whole and readable, each mask of its image's size and of the expected kind. A job calls
        it before its first expensive step."""
        for image_path, mask_path in self.pairs:
            image_size, _ = png_header(image_path)
            mask_size, mode = png_header(mask_path)
            check_same_size(image_path, image_size, mask_path, mask_size)
            if not self.colour_masks:
                check_index_mode(mask_path, mode)

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index: int):
        return read_pair(*self.pairs[index], colour=self.colour_masks, size=self.size)


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
