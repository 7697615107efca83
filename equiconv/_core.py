"""Loads the compiled core. Without it the operator fails loudly, never falls back silently.

Imported from a source tree where the core was never built (``pip install .`` and then
``python`` in the repository root is the usual way there), equiconv refuses to import and says
so, as numpy does: otherwise Python's own message blames a circular import."""
import importlib.util
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def source_tree():
    """The checkout this package was imported from, or None for an installed package."""
    root = PACKAGE_DIR.parent
    return root if (root / "setup.py").is_file() and (root / "csrc").is_dir() else None


def _unbuilt_source_tree_error(root) -> ImportError:
    return ImportError(
        f"equiconv was imported from its source tree {root}, where its compiled core "
        "(equiconv._C) has not been built. Either leave the source tree (for example `cd ..`) so "
        "that Python finds the installed equiconv, or build the core here: "
        "`pip install --no-build-isolation -e .` (or `python setup.py build_ext --inplace`).")


if importlib.util.find_spec("equiconv._C") is None and source_tree() is not None:
    raise _unbuilt_source_tree_error(source_tree())

try:
    import equiconv._C as _C  # importing it registers torch.ops.equiconv.*
except ImportError as error:  # pragma: no cover - exercised only on a broken install
    _C = None
    _IMPORT_ERROR = error
else:
    _IMPORT_ERROR = None

AVAILABLE = _C is not None


def require() -> None:
    """Raises a clear error if the compiled core is missing."""
    if _C is None:
        raise RuntimeError(
            "equiconv's compiled core (equiconv._C) could not be loaded "
            f"({_IMPORT_ERROR}). Build it with `pip install --no-build-isolation -e .` "
            "against the installed torch, or pass backend='reference' for the (slow) "
            "pure-PyTorch implementation.")
