# Set-up and the entry points. Uses the active Python (a virtual environment if one is
# active); installs torch==2.13.0 only when torch is missing, then builds equiconv in place.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install demo test test-fast wheel-check docs bench bench-peers gpu-check clean

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install ninja setuptools wheel
	$(PIP) install --no-build-isolation -e ".[dev]"  # dev includes the docs extra
	$(PIP) install --no-deps pytorch360convert==0.2.3 py360convert==1.0.4  # peers the resampling tests compare with; --no-deps keeps torch
	$(PIP) install scipy  # what py360convert needs

demo: install
	$(PYTHON) -m panosis_models.cli.showcase --out demo_out/showcase
	$(PYTHON) -m panosis_models.cli.experiment --preset demo --out demo_out/experiment
	$(PYTHON) -m panosis_models.cli.pipeline --quick --out demo_out/pipeline

test: install
	# two workers of one thread each (a file's tests on one worker); the slowest tests named
	OMP_NUM_THREADS=1 $(PYTHON) -m pytest -q -n 2 --dist loadfile --durations=15 tests
	$(MAKE) wheel-check

# the edit loop: the tests not marked slow; the install runs again only when what it builds changed
test-fast: .stamp-install
	$(PYTHON) -m pytest -q -m "not slow" tests

.stamp-install: setup.py pyproject.toml $(shell find csrc -type f)
	$(MAKE) install
	touch $@

# the documentation site, warnings as errors (tests/docs builds it in make test too); then
# screenshots of three pages in docs/_build/screenshots/ where Chromium is installed (as root:
# installed from the distribution's packages when missing)
docs: install
	$(PYTHON) -m sphinx -W --keep-going -b html docs docs/_build/html
	command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || true
	$(PYTHON) docs/screenshots.py docs/_build/html

# the package as users install it: a built wheel in a fresh virtual environment
wheel-check:
	PYTHON=$(PYTHON) bash .ci/wheel_check

# run from the checkout (benchmarks are not installed): results in benchmarks/results/
bench: install
	$(PYTHON) -m benchmarks

# the same with torch-harmonics as a peer: --no-deps, since its metadata would replace torch
bench-peers: install
	$(PIP) install --no-deps torch-harmonics==0.9.3
	$(PYTHON) -m benchmarks

# on a machine with an NVIDIA GPU: CUDA build, every CUDA test, GPU benchmarks; results + log in benchmarks/results/
gpu-check:
	PYTHON=$(PYTHON) bash .ci/gpu_check

clean:
	rm -rf build dist *.egg-info equiconv/_C*.so demo_out .stamp-install docs/_build docs/_generated docs/api docs/gallery
