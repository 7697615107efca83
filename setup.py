"""Builds equiconv and its compiled core ``equiconv._C`` from ``csrc/``.

Environment switches:
  EQUICONV_FORCE_CUDA=1  compile the CUDA sources even if torch reports no CUDA device;
  EQUICONV_NO_CUDA=1     build the CPU core only;
  EQUICONV_DEBUG=1       -O0 -g instead of -O3.
"""
import glob
import os
import re

from setuptools import find_packages, setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

import torch

ROOT = os.path.dirname(os.path.abspath(__file__))


def _flag(name):
    return os.environ.get(name, "0") not in ("", "0", "false", "False")


def _sources(pattern):
    return sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern), recursive=True))


def _version():
    """The one place the version is written: ``__version__`` in equiconv/__init__.py."""
    text = open(os.path.join(ROOT, "equiconv", "__init__.py"), encoding="utf-8").read()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def _cuda_only(path):
    """CUDA sources: kernels (.cu) and the torch glue around them (cuda.cpp, or under a cuda/ folder)."""
    return path.endswith(".cu") or os.path.basename(path) == "cuda.cpp" or "/cuda/" in path.replace(os.sep, "/")


def _extension():
    # csrc/ holds the shared core; each operator's files sit in csrc/ops/<name>/ and are found here.
    every = _sources("csrc/**/*.cpp") + _sources("csrc/**/*.cu")
    cpu_sources = [p for p in every if not _cuda_only(p)]
    cuda_sources = [p for p in every if _cuda_only(p)]
    with_cuda = bool(cuda_sources) and not _flag("EQUICONV_NO_CUDA") and CUDA_HOME is not None and (
        _flag("EQUICONV_FORCE_CUDA") or torch.cuda.is_available()
    )
    opt = ["-O0", "-g"] if _flag("EQUICONV_DEBUG") else ["-O3"]
    cxx = opt + ["-fopenmp", "-Wall", "-Wno-unknown-pragmas"]
    if with_cuda:
        return CUDAExtension(
            "equiconv._C",
            cpu_sources + cuda_sources,
            define_macros=[("WITH_CUDA", None)],
            extra_compile_args={"cxx": cxx, "nvcc": opt + ["--expt-relaxed-constexpr"]},
            extra_link_args=["-fopenmp"],
        )
    return CppExtension("equiconv._C", cpu_sources, extra_compile_args=cxx, extra_link_args=["-fopenmp"])


MODELS = ["matplotlib", "numpy", "pillow", "tqdm"]  # the reference models and their command lines
# the Triton kernels' tests run in its interpreter on CPU; a pin, since interpreter behaviour changes between releases
TRITON = "triton==3.9.0; platform_system == 'Linux' and platform_machine == 'x86_64'"
# torch.onnx.export's dynamo exporter (onnxscript, onnx) and the runtime the tests check its graphs in;
# none of them pulls torch
ONNX = ["onnx==1.23.2", "onnxruntime==1.32.0", "onnxscript==0.7.2"]
# the documentation site (make docs): Sphinx with Markdown pages, a generated API and executed examples
DOCS = ["sphinx==9.0.4", "myst-parser==5.2.0", "sphinx-gallery==0.22.1", "furo==2025.12.19"] + MODELS

setup(
    name="equiconv",
    version=_version(),
    description="Spherical convolutions for equirectangular (360 degree) images, with a compiled core",
    long_description=open(os.path.join(ROOT, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],
    keywords=["equirectangular", "panorama", "360", "spherical convolution", "pytorch"],
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: MIT License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: C++",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Environment :: GPU :: NVIDIA CUDA",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Topic :: Scientific/Engineering :: Image Processing",
    ],
    python_requires=">=3.9",
    # benchmarks/ stays in the checkout (it writes benchmarks/results/ and reads git)
    packages=find_packages(include=["equiconv", "equiconv.*", "panosis_models", "panosis_models.*"]),
    package_data={"panosis_models": ["README.md"]},
    install_requires=["torch>=2.4"],
    extras_require={
        "models": MODELS,
        "onnx": ONNX,
        "docs": DOCS,
        "dev": MODELS + ["pytest", "pytest-xdist==3.8.0", "hypothesis", TRITON] + ONNX + DOCS,
    },
    entry_points={"console_scripts": [
        # entry checks for the 'models' extra before the command, whose imports need it, is imported
        f"panosis-{name} = panosis_models.cli.entry:{name.replace('-', '_')}"
        for name in ("train", "evaluate", "experiment", "osmis-train", "osmis-generate", "pipeline",
                     "showcase", "convert-masks", "render-preview", "cityscapes-pairs", "panoptic", "oneshot-train",
                     "oneshot-evaluate", "oneshot-compare")
    ]},
    ext_modules=[_extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
    zip_safe=False,
)
