"""The tree is the architecture (docs/architecture.md): rooms, no import cycles (imports inside
functions count), no private name imported from another room, few modules at the top."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PIPELINE = ROOT / "pipeline"
TOP_LEVEL = {"__init__", "definitions", "errors"}  # config is a room (a package) of its own


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PIPELINE.rglob("*.py")}


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of ``path`` inside ``pipeline``, at any depth."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("pipeline")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            if not base.startswith("pipeline"):
                continue
            for a in node.names:  # `from pipeline.x import y` where y is a module: that module
                sub = f"{base}.{a.name}"
                out.append((sub, []) if sub in known else (base, [a.name]))
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    g: dict[str, set[str]] = {}
    for name, path in known.items():
        deps = set()
        for mod, _ in imports(path, known):
            while mod not in known and "." in mod:
                mod = mod.rpartition(".")[0]
            if mod in known and mod != name:
                deps.add(mod)
        g[name] = deps
    return g


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or module.endswith("config") else module


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by a depth-first search (one per back edge)."""
    found, state, stack = [], {}, []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g[n]):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)
    return found


def test_the_import_graph_of_pipeline_has_no_cycle():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_private_name_is_imported_from_another_room():
    known = modules()
    crossing = []
    for name, path in known.items():
        for mod, names in imports(path, known):
            private = [n for n in names if n.startswith("_")]
            if mod in known and private and room(mod) != room(name):
                crossing.append(f"{name} imports {private} from {mod}")
            elif mod in known and mod.rpartition(".")[2].startswith("_") \
                    and room(mod) != room(name):
                crossing.append(f"{name} imports the private module {mod}")
    assert not crossing, "; ".join(crossing)


def test_at_the_top_of_pipeline_only_definitions_config_and_errors():
    top = {p.stem for p in PIPELINE.glob("*.py")}
    assert top <= TOP_LEVEL, f"modules loose at the top of pipeline/: {sorted(top - TOP_LEVEL)}"
    rooms = {p.name for p in PIPELINE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == {"build", "cli", "config", "defs", "demo", "inputs", "method", "outputs",
                     "quality", "release", "sources"}


def test_no_build_module_imports_the_demo_generators():
    g = graph()
    build_side = [n for n in g if room(n) in {"defs", "sources", "method", "build", "release",
                                              "quality"} or n == "pipeline.definitions"]
    bad = [f"{n} -> {d}" for n in build_side for d in g[n] if room(d) == "demo"]
    assert not bad, bad


def test_transformation_sql_lives_in_assets_not_in_python():
    """Outside the readers (which build SQL from official header maps), Python holds trivial
    reads only: at most 10 lines in pipeline/ carry a JOIN, GROUP BY, CASE or window."""
    import re

    pattern = re.compile(r"\bJOIN\b|GROUP BY|\bCASE\b|\bOVER *\(")
    lines = [f"{p.relative_to(ROOT)}:{i}" for p in PIPELINE.rglob("*.py")
             if "sources" not in p.relative_to(PIPELINE).parts
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line) and not line.lstrip().startswith("#")]
    assert len(lines) <= 10, lines
