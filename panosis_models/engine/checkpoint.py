"""Checkpoints read back: without unpickling arbitrary objects (``weights_only=True``), of the
kind the caller needs, and refused with the file and the problem named. They are written by
``panosis_models.atomic.save_atomically``."""
import pickle
from pathlib import Path

import torch

from panosis_models.atomic import remove_stale_temporaries
from panosis_models.errors import InputError

# what each kind of checkpoint holds (a checkpoint also says its kind under "kind")
KINDS = {"unet": ("config", "model"), "osmis": ("config", "generator_args", "ema", "label_set"),
         "panoptic": ("config", "model"), "oslsm": ("config", "model", "kind")}
TITLES = {"unet": "a U-Net", "osmis": "an OSMIS", "panoptic": "a panoptic", "oslsm": "an OSLSM"}


def kind_of(state: dict):
    """The kind a checkpoint says it is, or the one whose contents it has (older files)."""
    if state.get("kind") in KINDS:
        return state["kind"]
    return next((kind for kind, keys in KINDS.items() if all(k in state for k in keys)), None)


def load(path, kind: str = None, map_location="cpu") -> dict:
    """The checkpoint at ``path``; with ``kind``, only a checkpoint of that kind."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"checkpoint {path} is a directory, not a file")
    if not path.exists():
        raise InputError(f"checkpoint {path} does not exist")
    if path.stat().st_size == 0:
        raise InputError(f"cannot read checkpoint {path}: the file is empty")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # a truncated, foreign or unsafe file: say so, and stop
        raise InputError(f"cannot read checkpoint {path}: the file is unreadable ({unreadable(error)})") from error
    if not isinstance(state, dict):
        raise InputError(f"{path} holds a {type(state).__name__}, not a checkpoint")
    if kind is not None and kind_of(state) != kind:
        found = kind_of(state)
        what = f"{TITLES[found]} checkpoint" if found else f"missing {', '.join(k for k in KINDS[kind] if k not in state)}"
        raise InputError(f"{path} is not {TITLES[kind]} checkpoint ({what})")
    return state


def unreadable(error: Exception) -> str:
    """Why ``torch.load`` failed, in its first sentence; for what the safe loader refuses, not
    torch's advice to load the file unsafely (``weights_only=False``), which a file that
    failed to load must never be given."""
    if isinstance(error, pickle.UnpicklingError):
        return "damaged, or not a checkpoint of tensors and plain data"
    return str(error).strip().split("\n")[0].split(". ")[0] or type(error).__name__


def load_for_resume(path, cfg, kind: str, map_location="cpu") -> dict:
    """The state to continue the run ``cfg`` from: a checkpoint of ``kind`` whose configuration
    agrees on everything that defines the run. Stale temporary files of ``path`` go."""
    state = load(path, kind, map_location)
    cfg.check_resumable(state["config"], path)
    remove_stale_temporaries(path)
    return state
