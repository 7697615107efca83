"""What the table modules share: reading a figures file and writing Markdown tables."""
import json
import statistics
from pathlib import Path


def load(figures: Path, name: str):
    """The parsed JSON of ``figures/name``."""
    return json.loads((figures / name).read_text())


def table(header, rows) -> str:
    """A Markdown table from a header and rows of cells (each turned into text)."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def mean_std(values, digits: int = 3) -> str:
    """``mean ± std`` (sample standard deviation) of a list of numbers; the value alone for one."""
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def yes_no(value) -> str:
    """A judgement cell: "yes" or "no"."""
    return "yes" if value else "no"


def number(value, digits: int = 3) -> str:
    """A figure with ``digits`` decimals; a dash where there is none."""
    return "–" if value is None else f"{value:.{digits}f}"


def spread(summary: dict) -> str:
    """``{"mean", "std"}`` as mean ± std (the mean alone without a spread)."""
    if summary["std"] is None:
        return number(summary["mean"])
    return f"{number(summary['mean'])} ± {number(summary['std'])}"
