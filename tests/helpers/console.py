"""Runs a command line the way its console script does (``sys.exit(entry.<name>())``: the
'models' extra checked, then the command's ``main``), in a subprocess that imports this checkout."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _command(script: str, args, prelude: str) -> tuple:
    """(argv, env) of a process running ``script`` as its console script does."""
    module = script[len("panosis-"):].replace("-", "_")
    code = f"{prelude}\nimport sys\nfrom panosis_models.cli.entry import {module}\nsys.exit({module}())"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return [sys.executable, "-c", code, *map(str, args)], env


def run_cli(script: str, *args, timeout: int = 600, prelude: str = "", cwd=ROOT) -> subprocess.CompletedProcess:
    """``script`` (``panosis-train``) with ``args``; ``prelude`` runs first in the process."""
    argv, env = _command(script, args, prelude)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def start_cli(script: str, *args, prelude: str = "") -> subprocess.Popen:
    """``run_cli`` started and left running (to be signalled, or raced against another run)."""
    argv, env = _command(script, args, prelude)
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
