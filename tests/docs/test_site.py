"""The documentation site builds with warnings as errors, and no internal link in it is broken."""
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


class _Links(HTMLParser):
    """Collects a page's ids and the targets of its href/src attributes."""

    def __init__(self):
        super().__init__()
        self.ids, self.targets = set(), []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name in ("href", "src") and value:
                self.targets.append(value)


def _parse(path: Path) -> _Links:
    links = _Links()
    links.feed(path.read_text(errors="replace"))
    return links


def broken_links(build: Path) -> list:
    """Internal links of every HTML page under ``build`` whose file or anchor does not exist."""
    pages = {path: _parse(path) for path in build.rglob("*.html")}
    broken = []
    for page, links in pages.items():
        for target in links.targets:
            url = urlsplit(target)
            if url.scheme or url.netloc or target.startswith(("mailto:", "javascript:", "data:")):
                continue
            path = (page.parent / unquote(url.path)).resolve() if url.path else page
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(build)} -> {target}")
            elif url.fragment and path.suffix == ".html":
                ids = pages[path].ids if path in pages else _parse(path).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(build)} -> {target} (no such anchor)")
    return broken


def test_a_link_check_finds_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<p id="here"><a href="b.html">b</a> <a href="a.html#here">ok</a>'
                                     '<a href="a.html#gone">x</a> <a href="https://example.org/">ext</a></p>')
    assert broken_links(tmp_path) == ["a.html -> b.html", "a.html -> a.html#gone (no such anchor)"]


@pytest.mark.slow
def test_the_site_builds_without_warnings_and_its_internal_links_resolve(tmp_path):
    build = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
                             str(ROOT / "docs"), str(build)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for page in ("index.html", "api.html", "api/equiconv.EquiConv2d.html", "gallery/index.html",
                 "geometry.html", "jobs/oneshot.html", "benchmarks.html"):
        assert (build / page).is_file(), page
    assert broken_links(build) == []
    # the API pages show the docstrings' parameters and their examples
    api = (build / "api/equiconv.EquiConv2d.html").read_text()
    assert "Parameters" in api and "lat_range" in api and re.search(r"&gt;&gt;&gt;|>>>", api)
