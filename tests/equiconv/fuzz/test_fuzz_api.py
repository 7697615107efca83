"""The public API under random, often invalid, arguments (tests/equiconv/fuzz/fuzz_api.py), in a child process
so that an abort fails this test instead of killing pytest. EQUICONV_FUZZ_EXAMPLES sets the
number of examples (2,000 by default; docs/contributing.md's long run uses 50,000)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.console import ROOT

FUZZER = Path(__file__).with_name("fuzz_api.py")


@pytest.mark.slow
def test_public_api_never_crashes_and_agrees_with_the_reference():
    examples = int(os.environ.get("EQUICONV_FUZZ_EXAMPLES", "2000"))
    # PYTHONPATH: the checkout's equiconv, as pytest imports it (the script's own folder is tests/...)
    result = subprocess.run([sys.executable, str(FUZZER), "--examples", str(examples)],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    tail = (result.stdout[-3000:] + "\n" + result.stderr[-6000:]).strip()
    if result.returncode < 0:
        raise AssertionError(f"the fuzzer died of signal {-result.returncode} on the last example it "
                             f"printed:\n{tail}")
    assert result.returncode == 0, tail
    assert "fuzzed" in result.stdout
