"""Sources that cite the geometry contract cite a page and sections that exist."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "geometry.md"


def test_cited_sections_of_the_geometry_page_exist():
    headings = set(re.findall(r"^#+ (.+)$", PAGE.read_text(), flags=re.M))
    cited = {}
    for path in [*ROOT.glob("equiconv/**/*.py"), *ROOT.glob("csrc/**/*.*"), *ROOT.glob("benchmarks/*.py")]:
        text = path.read_text(errors="replace")
        for match in re.finditer(r"docs/geometry\.md,? \(?((?:\"[^\"]+\"[,;]? ?)+)", text.replace("\n// ", " ")):
            cited.setdefault(path.relative_to(ROOT).as_posix(), set()).update(re.findall(r"\"([^\"]+)\"", match[1]))
    assert {"csrc/geometry.cpp", "equiconv/_boundary.py", "equiconv/reference/sampling.py"} <= set(cited)
    missing = {path: sections - headings for path, sections in cited.items() if sections - headings}
    assert not missing, missing


def test_every_markdown_file_a_source_names_is_in_the_repository():
    """A source may only send its reader to pages the repository holds (users have nothing else)."""
    named = {(path.relative_to(ROOT).as_posix(), name)
             for pattern in ("equiconv/**/*.py", "csrc/**/*.*", "benchmarks/*.py")
             for path in ROOT.glob(pattern)
             for name in re.findall(r"[\w./-]+\.md\b", path.read_text(errors="replace"))}
    assert ("equiconv/_boundary.py", "docs/geometry.md") in named
    pages = {page.name for page in ROOT.glob("**/*.md")}  # a bare name (a path built in parts) is a page's
    missing = sorted((path, name) for path, name in named
                     if not (ROOT / name).is_file() and ("/" in name or name not in pages))
    assert not missing, missing
