"""The package as it is built and imported: one version, the licence and every source of the
core in the sdist, and a clear refusal to import from a source tree whose core was never built.
(The built wheel, installed into a fresh environment, is checked by .ci/wheel_check in
``make test``.)"""
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import torch

import equiconv
from tests.helpers.console import ROOT

pytestmark = pytest.mark.slow  # builds the sdist and runs .ci scripts


def setup_py(*args, cwd=ROOT) -> str:
    result = subprocess.run([sys.executable, "setup.py", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_version_is_written_once():
    assert setup_py("--version").strip().splitlines()[-1] == equiconv.__version__
    assert setup_py("--license").strip().splitlines()[-1] == "MIT"


def test_the_sdist_carries_the_licence_and_every_source_of_the_core(tmp_path):
    setup_py("-q", "sdist", "--dist-dir", str(tmp_path))
    (archive,) = tmp_path.glob("equiconv-*.tar.gz")
    names = {name.split("/", 1)[1] for name in tarfile.open(archive).getnames() if "/" in name}
    tracked = subprocess.run(["git", "ls-files", "csrc"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert {"LICENSE", "README.md", "setup.py", "panosis_models/README.md"} <= names
    assert set(tracked) <= names  # headers too: without them the sdist cannot build


def test_importing_an_unbuilt_source_tree_says_what_to_do(tmp_path):
    """numpy's way: not Python's "cannot import name '_C' ... (most likely due to a circular
    import)" at the first convolution."""
    tree = tmp_path / "checkout"
    shutil.copytree(ROOT / "equiconv", tree / "equiconv", ignore=shutil.ignore_patterns("_C*.so", "__pycache__"))
    shutil.copy(ROOT / "setup.py", tree / "setup.py")
    (tree / "csrc").mkdir()
    code = ("import sys\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if 'Editable' not in getattr(f, '__name__', '')]\n"
            "import equiconv")  # an editable install elsewhere must not answer for this tree
    result = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: equiconv was imported from its source tree")
    assert "leave the source tree" in message and "build_ext --inplace" in message
    assert "circular import" not in result.stderr


def test_gpu_check_refuses_in_one_line_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: `make gpu-check` would run for real")
    result = subprocess.run(["bash", ".ci/gpu_check"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "make gpu-check: error: no CUDA device: torch.cuda.is_available() is False (this needs an NVIDIA GPU "
        "and a CUDA build of torch)"]
    makefile = (ROOT / "Makefile").read_text()
    assert "gpu-check:\n\tPYTHON=$(PYTHON) bash .ci/gpu_check" in makefile
