"""The Triton kernels' tests run on a GPU where there is one, else on CPU tensors in Triton's
interpreter. Triton decides interpreted or compiled when equiconv's kernels are first imported
(``@triton.jit`` reads TRITON_INTERPRET then), so the variable is set here, at collection, before
any test can import them; never on a machine with a GPU, where the CUDA tests run the compiled kernels."""
import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
