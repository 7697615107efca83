"""The Triton backend of the compiled operators (equi_conv2d, its gradients, pooling).

Triton is imported lazily: ``import equiconv`` never needs it. ``available()`` says whether it
imports and ``unavailable_reason()`` why not. On CPU tensors the kernels run only in Triton's
interpreter (``TRITON_INTERPRET=1`` set before the first Triton call), which is how the tests
prove them without a GPU.
"""
import functools
import os


@functools.lru_cache(maxsize=None)
def unavailable_reason():
    """None when Triton imports, else why not (one line)."""
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception as error:  # ImportError, or a broken install raising anything
        return f"triton cannot be imported ({type(error).__name__}: {error})"
    return None


def available() -> bool:
    return unavailable_reason() is None


def interpreter_requested() -> bool:
    """Whether TRITON_INTERPRET asks for Triton's CPU interpreter."""
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
