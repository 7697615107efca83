"""python docs/tables [--print NAME]: writes every results table (or prints one page's)."""
import argparse
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(DOCS.parent), str(DOCS)]  # the checkout (panosis_models) and docs/ (tables)

import tables  # noqa: E402

FIGURES = DOCS.parent / "panosis_models" / "experiments" / "figures"

parser = argparse.ArgumentParser(prog="python docs/tables", description=__doc__)
parser.add_argument("--print", dest="name", choices=sorted(tables.modules()), help="print one page's tables")
args = parser.parse_args()
if args.name:
    print(tables.modules()[args.name].render(FIGURES))
else:
    for path in tables.write_all(FIGURES, DOCS / "_generated"):
        print(path)
