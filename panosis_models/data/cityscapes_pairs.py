"""The "Cityscapes image pairs" layout (Kaggle cityscapes-image-pairs): ``train/`` and ``val/``
folders of ``N.jpg``, each 256x512: the photo on the left half, its Cityscapes colour label on
the right. JPEG noise blurs the label colours, so each label pixel takes the class whose official
colour is nearest, within a distance threshold, else void (never clustered colours: those have no
meaning). ``write_pairs`` writes such a folder from the renderer's perspective views, labels in
Cityscapes colours, both halves JPEG-compressed like the original's, for tests and the demo (the
real set cannot be downloaded here)."""
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from tqdm import tqdm

from panosis_models.atomic import atomic_file
from panosis_models.data._checks import check_int, check_size
from panosis_models.data.cityscapes import FINE_COLOURS, VOID, categories_from_fine
from panosis_models.data.datasets import SyntheticPanoramas, check_labels, resize_pair
from panosis_models.data.pngfiles import read_rgb
from panosis_models.errors import InputError

SPLITS = ("train", "val")
PAIR_SIZE = (256, 512)  # height, width of a pair file: two 256x256 halves
# Largest RGB distance at which a label pixel still takes the nearest class colour, else void: the
# nearest colour decides the class (the closest two, bus 0,60,100 and train 0,80,100, lie 20 apart),
# the threshold only refuses colours that belong to no class (JPEG's ringing at class edges).
THRESHOLD = 40.0
MAX_VOID_SHARE = 0.5  # a label half with more pixels beyond the threshold is no Cityscapes label
JPEG_QUALITY = 90


def _numeric_stem(path: Path):
    match = re.fullmatch(r"\d+", path.stem)
    return (0, int(path.stem), "") if match else (1, 0, path.stem)


def pair_files(folder: Path) -> list:
    """The ``.jpg`` files of ``folder``, in numeric order of their stems (1, 2, ..., 10)."""
    return sorted((p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file()),
                  key=_numeric_stem)


def colours_to_fine(rgb: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """(H, W) train ids (uint8; 255 void) of an (H, W, 3) colour label: the nearest class colour,
    if within ``threshold``."""
    pixels = rgb.reshape(-1, 1, 3).astype(np.int32)
    distance = np.sqrt(((pixels - FINE_COLOURS[None].astype(np.int32)) ** 2).sum(-1))  # (P, 19)
    nearest = distance.argmin(1)
    fine = np.where(distance[np.arange(len(nearest)), nearest] <= threshold, nearest, VOID)
    return fine.reshape(rgb.shape[:2]).astype(np.uint8)


def fine_to_colours(fine: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 colour label of train ids; void is black."""
    table = np.zeros((256, 3), dtype=np.uint8)
    table[:len(FINE_COLOURS)] = FINE_COLOURS
    return table[fine]


def read_pair(path: Path, threshold: float = THRESHOLD):
    """(photo (3, 256, 256) float in [0, 1], train ids (256, 256) int64) of one pair file, or an
    InputError naming it: unreadable, not 256x512, or a label half mostly beyond the threshold."""
    rgb = read_rgb(path)
    if rgb.shape[:2] != PAIR_SIZE:
        raise InputError(f"{path}: a pair must be {PAIR_SIZE[1]}x{PAIR_SIZE[0]} (photo left, label right), "
                         f"got {rgb.shape[1]}x{rgb.shape[0]}")
    half = PAIR_SIZE[1] // 2
    fine = colours_to_fine(rgb[:, half:], threshold)
    void = float((fine == VOID).mean())
    if void > MAX_VOID_SHARE:
        raise InputError(f"{path}: {void:.0%} of its label half lies farther than {threshold:g} from every "
                         "Cityscapes class colour: not a Cityscapes colour label")
    photo = torch.from_numpy(np.ascontiguousarray(rgb[:, :half])).permute(2, 0, 1).float() / 255
    return photo, torch.from_numpy(fine).long()


class CityscapesPairs(Dataset):
    """One split of a cityscapes-image-pairs folder: items (photo (3, 256, 256), labels (256, 256))
    at ``labels="fine"`` (train ids, 255 void) or ``"category"`` (CVRG-Pano 0-7); ``size=(H, W)``
    resizes every item (photo bilinear, labels nearest)."""

    def __init__(self, root, split: str = "train", labels: str = "fine", threshold: float = THRESHOLD,
                 size=None):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.labels, self.threshold = check_labels(labels), float(threshold)
        self.size = check_size(size)
        folder = Path(root) / split
        if not folder.is_dir():
            raise InputError(f"{folder}: no such folder (a cityscapes-image-pairs root holds train/ and val/)")
        self.files = pair_files(folder)
        if not self.files:
            raise InputError(f"{folder}: no .jpg pair files")

    def __len__(self):
        return len(self.files)

    def verify(self) -> None:
        """Checks every file now, cheaply (its JPEG header: readable, 512x256), so that a job
        refuses a bad folder before its first expensive step; labels are checked when read."""
        for path in self.files:
            try:
                with Image.open(path) as image:
                    width, height = image.size
            except (OSError, SyntaxError) as error:
                raise InputError(f"{path}: not a readable image ({error})") from None
            if (height, width) != PAIR_SIZE:
                raise InputError(f"{path}: a pair must be {PAIR_SIZE[1]}x{PAIR_SIZE[0]} (photo left, label right), "
                                 f"got {width}x{height}")

    def __getitem__(self, index: int):
        photo, fine = read_pair(self.files[index], self.threshold)
        labels = fine if self.labels == "fine" else categories_from_fine(fine)
        return resize_pair(photo, labels, self.size) if self.size else (photo, labels)


def write_pairs(out, num: int, split: str = "train", seed: int = 0, cache_dir=None, progress: bool = True,
                fov_deg: float = 90.0) -> list:
    """Writes ``num`` pair files ``out/split/1.jpg`` ... from perspective views (horizontal field
    of view ``fov_deg``) of the synthetic streets (fine labels in Cityscapes colours, void black),
    JPEG quality JPEG_QUALITY; returns the paths. Each file is written atomically."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    num = check_int("num", num, minimum=1)
    views = SyntheticPanoramas(num, PAIR_SIZE[0], PAIR_SIZE[1] // 2, seed=seed, cache_dir=cache_dir,
                               kind="perspective", fov_deg=fov_deg, labels="fine")
    folder = Path(out) / split
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i in tqdm(range(num), desc=f"pairs {split}", unit="pair", disable=not progress):
        image, fine = views[i]
        photo = (image.permute(1, 2, 0) * 255).round().byte().numpy()
        pair = np.concatenate([photo, fine_to_colours(fine.numpy().astype(np.uint8))], axis=1)
        path = folder / f"{i + 1}.jpg"
        with atomic_file(path) as tmp:
            Image.fromarray(pair).save(tmp, format="JPEG", quality=JPEG_QUALITY)
        written.append(path)
    return written


def write_pairs_root(out, num_train: int, num_val: int, seed: int = 0, cache_dir=None, progress: bool = True,
                     fov_deg: float = 90.0) -> Path:
    """A whole cityscapes-image-pairs root: ``num_train`` pairs in ``out/train`` from the worlds
    of ``seed`` and ``num_val`` in ``out/val`` from those of ``seed + 1``; returns ``out``."""
    for split, num, split_seed in (("train", num_train, seed), ("val", num_val, seed + 1)):
        if num:
            write_pairs(out, num, split, seed=split_seed, cache_dir=cache_dir, progress=progress, fov_deg=fov_deg)
    return Path(out)
