"""The ``>>>`` examples of every equiconv module run and print what their docstrings say, so the
documentation cannot drift from the code."""
import doctest
import importlib
import inspect
import io
import pkgutil

import pytest
import torch

import equiconv

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
    names = [equiconv.__name__]
    for info in pkgutil.walk_packages(equiconv.__path__, prefix="equiconv."):
        if info.name.startswith("equiconv.triton."):
            # the kernels' modules hold no examples; running doctest over them in the whole
            # tests/equiconv session made the interpreter's later launches fail ("Cannot call
            # @triton.jit'd outside of the scope of a kernel") in tests/equiconv/triton
            continue
        names.append(info.name)
    return sorted(names)


def run_doctests(module) -> tuple:
    """(examples tried, report of the failures) of the docstrings defined in ``module``."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = io.StringIO()
    # the module's own names, plus torch and equiconv, which every example may use unimported
    for test in finder.find(module, module.__name__, extraglobs={"torch": torch, "equiconv": equiconv}):
        runner.run(test, out=report.write)
    return runner.tries, runner.failures, report.getvalue()


@pytest.mark.parametrize("name", _module_names())
def test_module_examples_run(name):
    tries, failures, report = run_doctests(importlib.import_module(name))
    assert failures == 0, report


def test_a_wrong_example_fails():
    """The runner reports a failing example (the test above cannot pass by running nothing)."""
    module = type(equiconv)("broken_example")
    module.__doc__ = ">>> equiconv.solid_angle(4, 8).shape\ntorch.Size([4, 2])\n"
    tries, failures, report = run_doctests(module)
    assert (tries, failures) == (1, 1)
    assert "torch.Size([4, 1])" in report


def _public_callables():
    names = []
    for package in (equiconv, equiconv.functional, equiconv.nn, equiconv.reference):
        for name in package.__all__:
            if not inspect.ismodule(getattr(package, name)):
                names.append(f"{package.__name__}.{name}")
    return names


@pytest.mark.parametrize("name", _public_callables())
def test_public_names_document_their_arguments_with_an_example(name):
    """Google style, as the generated API pages read it: an Args section and a run example."""
    package, attribute = name.rsplit(".", 1)
    doc = inspect.getdoc(getattr(importlib.import_module(package), attribute)) or ""
    assert "\nArgs:\n" in doc, f"{name} has no Args section"
    assert "\nExample:\n" in doc and "\n    >>> " in doc, f"{name} has no Example with >>> lines"
