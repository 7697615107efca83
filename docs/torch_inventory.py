"""An intersphinx inventory of torch's public names, written from the installed torch.

The documentation builds without a network, so torch's ``objects.inv`` cannot be downloaded;
this writes one (Sphinx inventory version 2) whose links follow the published torch pages'
layout, ``generated/<name>.html#<name>``.
"""
import inspect
import zlib
from pathlib import Path

import torch
import torch.nn.functional

BASE_URL = "https://docs.pytorch.org/docs/stable/"
_MODULES = {"torch": torch, "torch.nn": torch.nn, "torch.nn.functional": torch.nn.functional,
            "torch.autograd": torch.autograd, "torch.export": torch.export, "torch.onnx": torch.onnx}
_PAGES = {"torch.Tensor": "tensors.html#torch.Tensor", "torch.dtype": "tensor_attributes.html#torch.dtype",
          "torch.device": "tensor_attributes.html#torch.device"}


def _entries():
    """(name, role, uri) for the public classes and functions of torch's main namespaces."""
    for name, uri in _PAGES.items():
        yield name, "class", uri
    for prefix, module in _MODULES.items():
        for attr in getattr(module, "__all__", None) or dir(module):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr, None)
            role = "class" if inspect.isclass(obj) else "function" if callable(obj) else None
            name = f"{prefix}.{attr}"
            if role and name not in _PAGES:
                yield name, role, f"generated/{name}.html#{name}"


def write(path: Path) -> Path:
    """Writes the inventory to ``path`` and returns it."""
    lines = sorted({f"{name} py:{role} 1 {uri} -" for name, role, uri in _entries()})
    header = (f"# Sphinx inventory version 2\n# Project: PyTorch\n# Version: {torch.__version__}\n"
              "# The remainder of this file is compressed using zlib.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress(("\n".join(lines) + "\n").encode()))
    return path
