"""Which kernels an op runs: the compiled core's (CPU, CUDA C++) or the Triton ones.

On CUDA tensors the default backend ('compiled') takes the Triton kernels where Triton imports,
else the CUDA C++ kernels; ``EQUICONV_CUDA_KERNELS=triton|cuda`` forces one. ``backend='triton'``
asks for Triton on any tensor: CUDA, or CPU when Triton's interpreter is on. A Triton kernel that
fails to compile on a GPU falls back to the C++ kernels with one warning (unless Triton was forced).
"""
import os
import warnings

from equiconv.triton import available, interpreter_requested, unavailable_reason

KERNELS_ENV = "EQUICONV_CUDA_KERNELS"
_CHOICES = ("triton", "cuda")
_failure = None  # why the Triton kernels failed to compile on this machine, once they have


def forced() -> str:
    """The kernel set EQUICONV_CUDA_KERNELS forces ('triton', 'cuda'), or '' when unset."""
    choice = os.environ.get(KERNELS_ENV, "").strip().lower()
    if choice and choice not in _CHOICES:
        raise ValueError(f"{KERNELS_ENV} must be one of {_CHOICES} or unset, got {choice!r}")
    return choice


def _require(why: str) -> None:
    if not available():
        raise RuntimeError(f"{why} needs Triton, but {unavailable_reason()}")


def use_triton(input, backend: str) -> bool:
    """Whether an op called with ``backend`` on ``input`` runs the Triton kernels."""
    if backend == "triton":
        _require("backend='triton'")
        if input.device.type != "cuda" and not (input.device.type == "cpu" and interpreter_requested()):
            raise ValueError(f"backend='triton' needs input on a CUDA device, got input on {input.device} "
                             "(on CPU only under Triton's interpreter: set TRITON_INTERPRET=1 before "
                             "the first Triton call)")
        return True
    if backend != "compiled" or input.device.type != "cuda":
        return False
    choice = forced()
    if choice == "triton":
        _require(f"{KERNELS_ENV}=triton")
        return True
    return choice != "cuda" and available() and _failure is None


def _triton_error(error: BaseException) -> bool:
    """Whether an exception is Triton's (a compilation or resource error), not a CUDA or torch one."""
    return type(error).__module__.split(".")[0] == "triton"


def guarded(kernels, fallback, device):
    """kernels(), or on a GPU where it raises a Triton error and Triton is not forced: one warning
    naming the error, then fallback() now and the C++ kernels from then on."""
    global _failure
    try:
        return kernels()
    except Exception as error:
        if device.type != "cuda" or forced() == "triton" or not _triton_error(error):
            raise
        if _failure is None:
            _failure = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            warnings.warn(f"equiconv: the Triton kernels failed to compile ({_failure}); using the CUDA C++ "
                          f"kernels instead (set {KERNELS_ENV}=cuda to silence, =triton to raise)",
                          RuntimeWarning, stacklevel=3)
        return fallback()
