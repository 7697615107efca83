import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=400,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# On a GPU the Triton kernels run at one fixed tile in the tests: autotuning every shape the
# tests draw costs a compile and a timed run per configuration (test_triton_conv checks that
# the autotuned tile gives the same bits).
os.environ.setdefault("EQUICONV_TRITON_AUTOTUNE", "0")


def pytest_collection_modifyitems(items):
    """An OperatorTester subclass names the battery tests that are long for its op in
    ``slow_tests``; they get the slow marker (make test-fast leaves them out)."""
    for item in items:
        if getattr(item, "originalname", None) in getattr(getattr(item, "cls", None), "slow_tests", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _torch_threads():
    """A test that changes torch's thread count gives it back: later tests' sums (their order
    depends on the threads) must not depend on which tests ran before them."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
