"""Compile-only check of the CUDA core, so that a syntax or type error in it fails `make test`
on any machine with the CUDA toolkit, GPU or not, CPU-only torch included: the kernels with nvcc
for sm_80 and sm_90, and the C++ sources in their CUDA configuration (-DWITH_CUDA) against
torch's headers. Set EQUICONV_SKIP_CUDA_COMPILE=1 on a machine without the toolkit."""
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
from torch.utils import cpp_extension

ROOT = Path(__file__).resolve().parents[3]
CSRC = ROOT / "csrc"
ARCHS = ("80", "90")

pytestmark = [pytest.mark.slow,  # compiles the core with nvcc and the C++ compiler
              pytest.mark.skipif(os.environ.get("EQUICONV_SKIP_CUDA_COMPILE", "0") not in ("", "0"),
                                 reason="EQUICONV_SKIP_CUDA_COMPILE is set")]


def _nvcc() -> str:
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    candidates = [Path(home) / "bin/nvcc"] if home else []
    found = shutil.which("nvcc")
    candidates += [Path(found)] if found else []
    candidates.append(Path("/usr/local/cuda/bin/nvcc"))
    for path in candidates:
        if path.is_file():
            return str(path)
    pytest.fail("nvcc not found (CUDA_HOME, PATH, /usr/local/cuda): the CUDA sources must be compiled "
                "by `make test`; set EQUICONV_SKIP_CUDA_COMPILE=1 only on a machine without the toolkit")


def _cuda_include(nvcc: str) -> Path:
    version = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    assert "release" in version, version
    for root in (os.environ.get("CUDA_HOME"), "/usr/local/cuda", str(Path(nvcc).resolve().parents[1])):
        if root and (Path(root) / "include/cuda_runtime_api.h").is_file():
            return Path(root) / "include"
    pytest.fail(f"cuda_runtime_api.h not found next to {nvcc}")


@pytest.mark.parametrize("source", sorted(str(p.relative_to(CSRC)) for p in CSRC.rglob("*.cu")))
def test_kernels_compile_with_nvcc(source, tmp_path):
    gencode = [f"-gencode=arch=compute_{a},code=sm_{a}" for a in ARCHS]
    # torch's own nvcc flags (they disable the implicit half/bfloat16 conversions, for one)
    command = [_nvcc(), "-std=c++17", "-O3", *cpp_extension.COMMON_NVCC_FLAGS, "-Werror", "all-warnings", *gencode,
               "-c", str(CSRC / source), "-o", str(tmp_path / "kernel.o")]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"


# A CPU-only torch ships c10/cuda headers without the file its build generates for them; its
# absence is harmless for a syntax check (it only selects export macros).
CPU_TORCH_WORKAROUND = ["-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE"]
CUDA_CONFIGURED = sorted(str(p.relative_to(CSRC)) for p in CSRC.rglob("*.cpp"))


@pytest.mark.parametrize("source", CUDA_CONFIGURED)
def test_sources_compile_with_cuda_enabled(source):
    include = _cuda_include(_nvcc())
    flags = [f"-I{p}" for p in cpp_extension.include_paths()] + [f"-I{include}", f"-I{sysconfig.get_paths()['include']}"]
    command = [shutil.which("g++") or "c++", "-std=c++20", "-fsyntax-only", "-Wall", "-Werror", "-Wno-unknown-pragmas",
               "-DWITH_CUDA", "-fopenmp", *CPU_TORCH_WORKAROUND, *flags, str(CSRC / source)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr[-4000:]}"
