"""The package's layering, read from its source (no import runs): every ``panosis_models``
import points down the layers of ``panosis_models/README.md`` (cli -> experiments -> jobs ->
engine -> models, data, metrics -> files and errors -> equiconv), no job imports another, only
``cli/`` imports a command, and no module takes part in an import cycle."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "panosis_models"

# top to bottom: a module may import its own layer (within its own job, for the jobs) and those below
LAYERS = (
    ("cli", ("cli", "command")),
    ("experiments", ("experiments", "showcase")),
    ("jobs", ("segmentation", "panoptic", "oneshot", "osmis")),
    ("engine", ("engine",)),
    ("models, data, metrics", ("models", "data", "metrics", "sphere_metrics", "plots")),
    ("files and errors", ("atomic", "errors")),
)
JOBS = dict(LAYERS)["jobs"]


def part_of(module: str) -> str:
    """The first name under ``panosis_models`` of a dotted module name."""
    return module.split(".")[1] if module.count(".") else ""


def layer_of(module: str) -> int:
    part = part_of(module)
    for index, (_, parts) in enumerate(LAYERS):
        if part in parts:
            return index
    raise AssertionError(f"{module} belongs to no layer: add its part {part!r} to LAYERS and the README")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set) -> set:
    """The ``panosis_models`` modules ``path`` imports anywhere in its body (``from a import b``
    counts as a.b where a.b is a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m == "panosis_models" or m.startswith("panosis_models.")}


def graph(root: Path = PACKAGE) -> dict:
    files = sorted(root.rglob("*.py"))
    known = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, known) for f in files}


def violations(edges: dict) -> list:
    """Every import that breaks the layering, as readable lines."""
    found = []
    for module, targets in edges.items():
        if module == "panosis_models":
            continue
        for target in targets:
            if target == "panosis_models":
                continue
            source, dest = part_of(module), part_of(target)
            if dest in ("cli", "command") and source not in ("cli", "command"):
                found.append(f"{module} imports the command module {target}: only cli/ imports a command")
            elif source in JOBS and dest in JOBS and source != dest:
                found.append(f"{module} imports {target}: no job imports another job")
            elif layer_of(target) < layer_of(module):
                found.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                             f"({LAYERS[layer_of(target)][0]}): imports point down the layers")
    return sorted(found)


def cycles(edges: dict) -> list:
    """The import cycles among modules (strongly connected components of more than one module,
    or a module importing itself), each as a sorted list."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_import_points_down_the_layers():
    assert violations(graph()) == []


def test_no_import_cycle():
    # package __init__ files re-export their modules: an edge from a package to its own module is no cycle
    edges = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in graph().items()}
    assert cycles(edges) == []


def test_the_readme_states_the_layers():
    readme = (PACKAGE / "README.md").read_text()
    for _, parts in LAYERS:
        for part in parts:
            assert f"`{part}" in readme, f"panosis_models/README.md does not place {part!r} in the layering"


@pytest.mark.parametrize("source, target, rule", [
    ("panosis_models/panoptic/config.py", "from panosis_models.segmentation.config import TrainConfig",
     "no job imports another job"),
    ("panosis_models/oneshot/train.py", "from panosis_models.cli.oneshot_train import main",
     "only cli/ imports a command"),
    ("panosis_models/engine/trainer.py", "from panosis_models.segmentation.train import KIND",
     "imports point down the layers"),
    ("panosis_models/data/source.py", "from panosis_models.engine.config import RunConfig",
     "imports point down the layers"),
])
def test_the_checks_catch_what_they_forbid(tmp_path, source, target, rule):
    """The rules fail on the imports this package once had (each planted in a copy)."""
    copy = tmp_path / "panosis_models"
    for path in PACKAGE.rglob("*.py"):
        (copy / path.relative_to(PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
        (copy / path.relative_to(PACKAGE)).write_text(path.read_text())
    planted = copy / Path(source).relative_to("panosis_models")
    planted.write_text(planted.read_text() + f"\n{target}\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = violations(graph(copy))
    finally:
        ROOT = saved
    assert any(rule in line for line in found), found


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
