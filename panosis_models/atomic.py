"""Files and folders written whole or not at all: a temporary file beside the target, renamed over
it when complete, created with the user's umask; what a killed writer left behind goes at the next
write. A folder is written beside its target and swapped in when complete. Output folders are
checked writable before any expensive work starts."""
import fcntl
import os
import re
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

import torch

from panosis_models.errors import InputError


PROBE = ".write-test-"  # a file's name start that only the check below writes (and removes at once)


def writable_folder(path, name: str = "--out") -> Path:
    """``path`` created if missing, after checking it is (or can be) a folder we may write in.
    ``name`` is the argument the error names."""
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{name} {path}: {existing} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f"{PROBE}{secrets.token_hex(4)}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as error:
        raise InputError(f"{name} {path}: cannot write there ({error.strerror or error})") from None
    return path


def remove_stale_temporaries(path) -> None:
    """Deletes the temporary files and folders (``_temporary``'s) that writes of ``path`` left
    behind when they were killed: those of its name that no live writer holds locked."""
    path = Path(path)
    own = re.compile(re.escape(f".{path.name}.") + "[0-9a-f]{8}" + re.escape(f"{path.suffix}.tmp"))
    for stale in [p for p in path.parent.iterdir() if own.fullmatch(p.name)]:
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # gone already, or not ours
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: its writer is alive
            if os.path.samestat(os.fstat(fd), os.lstat(stale)):  # not renamed into place meanwhile
                shutil.rmtree(stale) if stat.S_ISDIR(os.fstat(fd).st_mode) else stale.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)


@contextmanager
def _temporary(path: Path, folder: bool = False):
    """Yields a new file or folder beside ``path`` (``.NAME.XXXXXXXX.SUFFIX.tmp``, made with the
    user's umask) after removing those of killed writes; locked (flock, released however the
    process ends) while the block runs, so that another write's cleanup leaves it alone; removed
    if the block fails."""
    remove_stale_temporaries(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{path.suffix}.tmp"
    if folder:
        tmp.mkdir()
    fd = os.open(tmp, os.O_RDONLY if folder else os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # less the umask
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True) if folder else tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


@contextmanager
def atomic_file(path):
    """Yields a temporary path beside ``path``; renames it to ``path`` if the block succeeds and
    removes it if not, so readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(path) as tmp:
        yield tmp
        os.replace(tmp, path)


def save_atomically(state: dict, path) -> Path:
    """Writes ``state`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically."""
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


@contextmanager
def folder_written_whole(path, overwrite: bool = False, name: str = "--out"):
    """Yields a new empty folder beside ``path`` that becomes ``path`` when the block succeeds
    and is removed when it fails. A non-empty ``path`` is refused (InputError naming ``name``)
    before the block runs, unless ``overwrite``: then the old folder is removed only after the
    new one is complete and in its place, so it is never lost half-way and no old file survives
    in the new one. An empty ``path`` is refused: it would be the working folder. A link is
    followed: the folder it names is written (or replaced) and the link kept, as writing through
    it would. Temporary folders that killed runs left beside it go (``remove_stale_temporaries``)."""
    if not str(path).strip():
        raise InputError(f"{name} is empty: name the folder")
    path = Path(os.path.realpath(path))
    if path.exists() and not path.is_dir():
        raise InputError(f"{name} {path} is a file, not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise InputError(f"{name} {path} is not empty: choose another folder, or pass --overwrite to replace it "
                         "whole")
    with _temporary(writable_folder(path.parent, name) / path.name, folder=True) as tmp:
        yield tmp
        old = tmp.with_suffix(".old") if path.exists() else None
        if old:
            os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            if old:
                os.rename(old, path)
            raise
    if old:
        shutil.rmtree(old)
