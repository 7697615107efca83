# Set-up and the two entry points. Uses the active Python (a virtual environment if one is
# active); installs torch==2.13.0 only when torch is missing, then builds equiconv in place.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install demo test clean

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install ninja setuptools wheel
	$(PIP) install --no-build-isolation -e ".[dev]"

demo: install
	$(PYTHON) -m panosis_models.showcase --out demo_out/showcase
	$(PYTHON) -m panosis_models.experiment --preset demo --out demo_out/experiment
	$(PYTHON) -m panosis_models.pipeline --quick --out demo_out/pipeline

test: install
	$(PYTHON) -m pytest -q tests

clean:
	rm -rf build *.egg-info equiconv/_C*.so demo_out
