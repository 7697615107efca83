"""Loads the compiled core. Without it the operator fails loudly, never falls back silently."""
try:
    from equiconv import _C  # noqa: F401  (importing it registers torch.ops.equiconv.*)
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
