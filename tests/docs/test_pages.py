"""The documentation's sources: the README stays short, every results table is generated from a
figures file and included by a page, and no page or source names a file the repository lacks."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIGURES = ROOT / "panosis_models" / "experiments" / "figures"
sys.path.insert(0, str(DOCS))

import tables  # noqa: E402


def test_the_readme_is_at_most_150_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150


def test_every_table_module_renders_its_figures_and_a_page_includes_it(tmp_path):
    written = tables.write_all(FIGURES, tmp_path)
    assert written, "no table modules"
    pages = "\n".join(path.read_text() for path in DOCS.rglob("*.md") if "_build" not in path.parts)
    for path in written:
        text = path.read_text()
        assert "|---" in text, f"{path.name} holds no table"
        assert f"_generated/{path.name}" in pages, f"no page includes {path.name}"


def test_a_table_module_that_reads_a_missing_figures_file_fails(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="reads"):
        tables.write_all(tmp_path, tmp_path / "out")


def test_local_links_of_the_readme_and_the_pages_exist():
    sources = [ROOT / "README.md"] + [p for p in DOCS.rglob("*.md") if "_build" not in p.parts
                                      and "_generated" not in p.parts]
    missing = []
    for source in sources:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", source.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            candidates = [source.parent / target]
            if target.endswith(".html"):  # a page of the built site, named from its Markdown source
                candidates += [source.parent / target.replace(".html", suffix) for suffix in (".md", ".rst")]
            if target.startswith("gallery/"):  # written by sphinx-gallery from docs/examples/
                candidates.append(DOCS / "examples" / Path(target).with_suffix(".py").name.replace("index.py", "README.txt"))
            if not any(candidate.exists() for candidate in candidates):
                missing.append(f"{source.relative_to(ROOT)} -> {target}")
    assert missing == []
