"""Files written whole or not at all: a temporary file beside the target, renamed over it when
complete, created with the user's umask; what a killed writer left behind goes at the next
write."""
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import torch


def remove_stale_temporaries(path) -> None:
    """Deletes the temporary files a save of ``path`` left behind when it was killed."""
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.*{path.suffix}.tmp"):
        stale.unlink(missing_ok=True)


@contextmanager
def atomic_file(path):
    """Yields a temporary path beside ``path``; renames it to ``path`` if the block succeeds and
    removes it if not, so readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{path.suffix}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # 0o666 less the umask
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_atomically(state: dict, path) -> Path:
    """Writes ``state`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically."""
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)
