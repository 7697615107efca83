"""Output folders checked before any expensive work: a run that cannot write its results must
fail at once, not after an hour of training; and a run folder held by one run alone."""
import fcntl
import shutil
from contextlib import contextmanager
from pathlib import Path

from panosis_models.atomic import PROBE, writable_folder
from panosis_models.errors import InputError

LOCK = ".lock"  # in a run folder: locked (flock) while a run works there, and left there after
# what only a run of this project leaves in its folder (older runs had no lock)
RUN_MARKS = (LOCK, "last.pt", "summary.json", "results.json")


@contextmanager
def output_folder(path, name: str = "--out"):
    """Yields ``writable_folder(path)``: a command's results folder checked before its work (the
    rendering of its data included) starts; a folder this call made is removed again if the
    block fails before anything was written in it."""
    path = Path(path)
    made = next((p for p in (*reversed(path.parents), path) if not p.exists()), None)
    folder = writable_folder(path, name)
    try:
        yield folder
    except BaseException:
        if made is not None:
            _remove_made(folder, made)
        raise


@contextmanager
def run_folder(path, resume: bool = False, overwrite: bool = False, can_resume: bool = True, main: bool = True,
               name: str = "--out"):
    """Yields the run folder ``path`` (``writable_folder``), held by this run alone until the
    block ends: the rules every job's ``--out`` follows, so that no run loses another's files.

    - An empty ``path`` is refused (it would be the working folder).
    - A folder that holds files is refused unless ``resume`` (the job continues what is there)
      or ``overwrite`` (its files are deleted first); ``can_resume``: the job has a --resume.
      ``overwrite`` deletes only a run's folder (one holding a ``RUN_MARKS`` file), never a
      folder of someone's other files named by mistake.
    - ``OUT/.lock`` is locked while the block runs, so a second run there is refused at once
      (the lock goes with the process, however it ends).
    - A folder this call made is removed again if the block fails before anything but the lock
      was written in it.

    ``main``: this is the first process of its job (the others of a ``torchrun`` job only write
    where it says, after it has claimed the folder)."""
    if not str(path).strip():
        raise InputError(f"{name} is empty: name the run folder")
    if resume and overwrite:
        raise InputError("--resume and --overwrite exclude each other: continue the run, or replace it")
    path = Path(path)
    if not main:
        yield writable_folder(path, name)
        return
    if not (resume or overwrite) and path.is_dir() and _held(path):  # refused before a lock is made
        raise _taken(path, can_resume, name)
    if overwrite and path.is_dir() and _held(path) and not any((path / mark).exists() for mark in RUN_MARKS):
        raise InputError(f"{name} {path} holds files but no run ({', '.join(RUN_MARKS)}): --overwrite replaces "
                         f"only a run's folder; choose another {name}, or empty it yourself")
    with output_folder(path, name) as folder:  # which removes a folder it made, once empty
        lock_made = not (folder / LOCK).exists()
        with open(folder / LOCK, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(f"{name} {path} is in use by another run (it holds {folder / LOCK}); wait for it "
                                 f"to end or choose another {name}") from None
            try:
                if not (resume or overwrite) and _held(folder):  # a run that ended between the check and the lock
                    raise _taken(path, can_resume, name)
                for p in _held(folder) if overwrite else ():
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
                yield folder
            except BaseException:
                if lock_made and not _held(folder):  # nothing written: leave no trace of this run
                    (folder / LOCK).unlink(missing_ok=True)
                raise


def _held(folder: Path) -> list:
    """What ``folder`` holds besides its lock and the probes of ``writable_folder`` (another
    process of the same torchrun job checks the folder while the first claims it)."""
    return sorted(p for p in folder.iterdir() if p.name != LOCK and not p.name.startswith(PROBE))


def _taken(path: Path, can_resume: bool, name: str) -> InputError:
    held = _held(path)
    return InputError(f"{name} {path} holds files already ({', '.join(p.name for p in held[:3])}"
                      f"{', ...' if len(held) > 3 else ''}): " +
                      ("pass --resume to continue its run, " if can_resume else "pass ") +
                      f"--overwrite to replace it, or choose another {name}")


def _remove_made(folder: Path, made: Path) -> None:
    """Removes the empty ``folder`` and its parents up to ``made``, the first this run made."""
    for p in (folder, *folder.parents):
        try:
            p.rmdir()
        except OSError:
            return
        if p == made:
            return
