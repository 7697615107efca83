"""Every ``panosis-*`` console script under random flag combinations (tests/panosis_models/cli/fuzz_cli.py), in a
child process. EQUICONV_CLI_FUZZ_RUNS sets the runs per command (16 by default, derandomised);
EQUICONV_CLI_FUZZ_SEED draws other combinations."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers.console import ROOT

FUZZER = Path(__file__).with_name("fuzz_cli.py")
COMMANDS = (ROOT / "setup.py").read_text().split("for name in (")[1].split(")")[0].count('"') // 2  # how many


@pytest.mark.slow
def test_console_scripts_exit_cleanly_and_touch_only_their_output():
    runs = os.environ.get("EQUICONV_CLI_FUZZ_RUNS", "16")
    seed = os.environ.get("EQUICONV_CLI_FUZZ_SEED", "0")
    result = subprocess.run([sys.executable, str(FUZZER), "--runs", runs, "--seed", seed, "--cap", "6"],
                            capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    report = result.stdout[result.stdout.find("runs per command"):]
    assert result.returncode == 0, (report or result.stdout[-3000:]) + result.stderr[-3000:]
    assert f"fuzzed {int(runs) * COMMANDS} runs, 0 failed" in result.stdout
