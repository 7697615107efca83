"""The reference jobs' results tables, written as Markdown from the experiments' figures files.

Each module of this package renders one page's tables: it names the JSON files it reads in
``SOURCES`` and returns Markdown from ``render(figures)``. :func:`write_all` writes them to
``docs/_generated/<module>.md``, which the job pages include; ``conf.py`` calls it before every
build, so a table always shows what its figures file holds.

Run by hand: ``python docs/tables --print NAME`` prints one page's tables.
"""
import importlib
import pkgutil
from pathlib import Path

HEADER = "<!-- written by docs/tables/{name}.py from {sources}: edit the figures or the script, not this file -->\n\n"


def modules():
    """The table modules, by name."""
    return {info.name: importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


def write_all(figures: Path, out: Path) -> list:
    """Renders every table module from ``figures`` into ``out/<name>.md``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, module in modules().items():
        missing = [source for source in module.SOURCES if not (figures / source).is_file()]
        if missing:
            raise FileNotFoundError(f"docs/tables/{name}.py reads {', '.join(missing)}, not in {figures}")
        text = HEADER.format(name=name, sources=", ".join(module.SOURCES)) + module.render(figures)
        path = out / f"{name}.md"
        path.write_text(text)
        written.append(path)
    return written
