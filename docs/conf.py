"""Sphinx configuration of the equiconv site.

Markdown pages (myst-parser), the API generated from the docstrings (autosummary + napoleon),
examples executed at small sizes on CPU (sphinx-gallery), and the reference jobs' results tables
written from ``panosis_models/experiments/figures/*.json`` by :mod:`tables` before every build,
so no results table is typed by hand. ``make docs`` builds it with warnings as errors.
"""
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS)]  # the checkout (equiconv built in place) and docs/ (tables)

import equiconv  # noqa: E402
import tables  # noqa: E402
import torch_inventory  # noqa: E402

GENERATED = DOCS / "_generated"
tables.write_all(ROOT / "panosis_models" / "experiments" / "figures", GENERATED)

project = "equiconv"
author = "the equiconv authors"
copyright = "2026, the equiconv authors"
release = version = equiconv.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated", "examples", "tables", "README.md"]
templates_path = ["_templates"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# The build runs offline (CI reaches only package registries): torch's inventory is written
# locally from the installed torch, its links pointing at the published torch documentation.
intersphinx_mapping = {
    "torch": (torch_inventory.BASE_URL, str(torch_inventory.write(GENERATED / "torch-objects.inv"))),
}
intersphinx_disabled_reftypes = ["*"]

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "write_computation_times": False,
    "abort_on_example_error": True,
}

html_theme = "furo"
html_title = f"equiconv {release}"
html_static_path = ["_static"]
