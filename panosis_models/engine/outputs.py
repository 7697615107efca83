"""Output folders checked before any expensive work: a run that cannot write its results must
fail at once, not after an hour of training."""
import os
import secrets
from pathlib import Path

from panosis_models.errors import InputError


def writable_folder(path, name: str = "--out") -> Path:
    """``path`` created if missing, after checking it is (or can be) a folder we may write in.
    ``name`` is the argument the error names."""
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{name} {path}: {existing} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{secrets.token_hex(4)}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as error:
        raise InputError(f"{name} {path}: cannot write there ({error.strerror or error})") from None
    return path
