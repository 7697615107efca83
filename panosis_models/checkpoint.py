"""Checkpoints that are never half-written (temp file in the same folder, then an atomic rename)
and are loaded without unpickling arbitrary objects (``weights_only=True``)."""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import torch


@contextmanager
def atomic_file(path):
    """Yields a temporary path beside ``path``; renames it to ``path`` if the block succeeds and
    removes it if not, so readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_atomically(state: dict, path) -> Path:
    """Writes ``state`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically."""
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def load(path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # a truncated or foreign file: say which
        raise ValueError(f"cannot read checkpoint {path}: {error}") from error
