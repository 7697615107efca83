"""Runs a command line the way its console script does (``sys.exit(main())``), in a
subprocess that imports this checkout."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(script: str, *args, timeout: int = 600, prelude: str = "") -> subprocess.CompletedProcess:
    """``script`` (``panosis-train``) with ``args``; ``prelude`` runs first in the process."""
    module = script[len("panosis-"):].replace("-", "_")
    code = f"{prelude}\nimport sys\nfrom panosis_models.cli.{module} import main\nsys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
