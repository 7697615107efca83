"""Importing the reference models changes nothing outside them: no matplotlib backend switched,
no pyplot loaded, no exit for a missing 'models' extra (the console scripts' entry points say
what to install, before a command is imported); and every figure comes from ``plots``."""
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from panosis_models.cli import entry

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = re.findall(r'"([a-z-]+)"', re.search(r'for name in \(([^)]*)\)', (ROOT / "setup.py").read_text()).group(1))
HEAVY = {"torch", "numpy", "matplotlib", "PIL", "tqdm", "equiconv"}
MESSAGE = ("{script}: error: the reference models need the 'models' extra (missing: {missing}); "
           "install it with: pip install 'equiconv[models]'\n")


def python(code: str, *args: str, backend: str = "pdf") -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter on this checkout, matplotlib's backend preset to ``backend``
    (which a ``matplotlib.use`` anywhere would change)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": backend, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


# --- importing ---------------------------------------------------------------------------------

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import matplotlib
calls = []
matplotlib.use = lambda *args, **kwargs: calls.append(repr(args))
import panosis_models
names = sorted(m.name for m in pkgutil.walk_packages(panosis_models.__path__, "panosis_models."))
for name in names:
    importlib.import_module(name)
print(json.dumps({"names": names, "use": calls, "pyplot": "matplotlib.pyplot" in sys.modules,
                  "backend": matplotlib.get_backend()}))
"""


@pytest.mark.slow  # Python subprocesses importing every module
def test_importing_every_module_switches_no_backend_and_loads_no_pyplot():
    result = python(IMPORT_EVERYTHING)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert {"panosis_models.plots", "panosis_models.cli.entry", "panosis_models.showcase",
            "panosis_models.experiments.latitude", "panosis_models.cli.train"} <= set(seen["names"])
    assert seen["use"] == [] and seen["pyplot"] is False and seen["backend"] == "pdf", seen


def test_the_cli_package_and_entry_import_without_the_extra_and_without_heavy_modules():
    """No check runs (and nothing exits) at import; entry imports the standard library alone."""
    code = ("import json, sys\nsys.modules['tqdm'] = None\nimport panosis_models.cli, panosis_models.cli.entry\n"
            "print(json.dumps(sorted({m.split('.')[0] for m, module in sys.modules.items() if module})))")
    result = python(code)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert not HEAVY & set(json.loads(result.stdout)), result.stdout


@pytest.mark.slow  # Python subprocesses importing every module
def test_plots_leaves_the_backend_it_found():
    """Whatever backend the user chose (here svg) is the one after importing plots and drawing."""
    code = ("import sys, tempfile, matplotlib\nfrom panosis_models import plots\n"
            "plots.save_loss_curves([{'step': 0, 'loss': 1.0}], tempfile.mktemp(suffix='.png'))\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)")
    result = python(code, backend="svg")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["svg", "False"]


# --- the console scripts' entry points ----------------------------------------------------------

def test_every_console_script_starts_in_entry():
    assert "panosis_models.cli.entry:{name.replace('-', '_')}" in (ROOT / "setup.py").read_text()
    for script in SCRIPTS:
        module = script.replace("-", "_")
        assert callable(getattr(entry, module)), script
        assert (ROOT / "panosis_models/cli" / f"{module}.py").is_file(), script


@pytest.mark.parametrize("missing", [("tqdm",), ("PIL",), ("matplotlib",), ("PIL", "tqdm")])
def test_an_entry_point_without_the_extra_is_one_line_and_exit_2_before_the_command(missing):
    hide = "".join(f"sys.modules[{name!r}] = None\n" for name in missing)
    code = f"import sys\n{hide}from panosis_models.cli.entry import osmis_train\nsys.exit(osmis_train())"
    result = python(code, "--help")
    assert result.returncode == 2, result.stderr
    assert result.stderr == MESSAGE.format(script="panosis-osmis-train", missing=", ".join(missing))
    assert result.stdout == ""  # the command (its --help) never ran


def test_missing_extra_names_what_cannot_be_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert entry.missing_extra() == ["tqdm"]


@pytest.mark.slow  # Python subprocesses importing every module
def test_an_entry_point_with_the_extra_runs_its_command():
    result = python("import sys\nfrom panosis_models.cli.entry import showcase\nsys.exit(showcase())", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: panosis-showcase ")


@pytest.mark.slow  # Python subprocesses importing every module
def test_python_dash_m_still_runs_a_command():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "panosis_models.cli.render_preview", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: panosis-render-preview ")


# --- the sources: no global backend switch, no pyplot, figures from plots alone ----------------

def offences(source: str, figures_allowed: bool = True) -> list:
    """What ``source`` does that it must not: ``matplotlib.use`` (under any alias) or pyplot/pylab
    imported in any form; with ``figures_allowed`` False also a Figure made or saved itself."""
    tree = ast.parse(source)
    aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for a in node.names if a.name == "matplotlib"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[:2] in (["matplotlib", "pyplot"], ["matplotlib", "pylab"])
                      or a.name == "pylab"]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module.startswith(("matplotlib.pyplot", "matplotlib.pylab", "pylab")) or (
                    node.module == "matplotlib" and names & {"pyplot", "pylab", "use"}):
                found.append(f"line {node.lineno}: from {node.module} import {', '.join(sorted(names))}")
            if not figures_allowed and node.module == "matplotlib.figure":
                found.append(f"line {node.lineno}: a figure of its own (matplotlib.figure)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr == "use" and isinstance(owner, ast.Name) and owner.id in aliases:
                found.append(f"line {node.lineno}: {owner.id}.use(...)")
            if not figures_allowed and node.func.attr == "savefig":
                found.append(f"line {node.lineno}: .savefig(...) outside plots")
    return found


@pytest.mark.parametrize("source", [
    'import matplotlib\nmatplotlib.use("Agg")', 'import matplotlib as mpl\nmpl.use("Agg")',
    "from matplotlib import use\nuse('Agg')", "import matplotlib.pyplot as plt", "from matplotlib import pyplot",
    "from matplotlib.pyplot import subplots", "import pylab", "import matplotlib.pylab"])
def test_offences_finds_each_way_of_switching_the_backend_or_loading_pyplot(source):
    assert offences(source)


def test_offences_lets_the_object_oriented_api_through():
    source = ("from matplotlib import colormaps\nfrom matplotlib.figure import Figure\nfig = Figure()\n"
              "fig.subplots()\nfig.savefig('a.png')\nsomething.use(1)")
    assert offences(source) == []
    assert len(offences(source, figures_allowed=False)) == 2


def test_no_source_switches_the_backend_or_loads_pyplot_and_only_plots_makes_figures():
    found = {}
    for folder in ("panosis_models", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            figures_allowed = folder == "benchmarks" or name == "panosis_models/plots.py"
            found.update({name: hits for hits in [offences(path.read_text(), figures_allowed)] if hits})
    assert found == {}
