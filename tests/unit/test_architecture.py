"""The layout's rules, measured from the code: layers, no Prefect under src/, no cycles, no private reach-ins, sizes.

Layers, top to bottom; a module may import its own layer and the layers below it:

    flows                                   Prefect: the flow, the CLI, serving deployments
    news_pipeline.runner                    the one run loop
    news_pipeline.batch, .partition         a batch through the stages; a partition's publish
    news_pipeline.reporting, .state         run report and Data Docs; ledger, change detection, doc ids
    news_pipeline.stages, news_pipeline.io  frame -> frame steps (no I/O); reading and writing files
    the rest of news_pipeline               config, catalog, schemas, locations, results, timing, ...

``stages`` and ``io`` do not import each other. Lazy imports inside functions count too; imports
under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "flows").rglob("*.py"))
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60

LAYERS = [
    ["flows"],
    ["news_pipeline.runner"],
    ["news_pipeline.batch", "news_pipeline.partition"],
    ["news_pipeline.reporting", "news_pipeline.state"],
    ["news_pipeline.stages", "news_pipeline.io"],
    ["news_pipeline"],
]
SIBLINGS_APART = [("news_pipeline.stages", "news_pipeline.io")]


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO / "src") if path.is_relative_to(REPO / "src") else path.relative_to(REPO)
    parts = list(rel.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SOURCES}


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at any depth, except inside ``if TYPE_CHECKING:``."""
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in skipped]


def _imported(module: str) -> set[str]:
    """The modules (project modules resolved to the module, not the package) that ``module`` imports."""
    out = set()
    for node in _runtime_imports(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif node.module:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                out.add(child if child in MODULES else node.module)
    return out


def _project(names: set[str]) -> set[str]:
    return {n for n in names if n in MODULES}


def _layer(module: str) -> int:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} is in no layer")


def test_src_never_imports_prefect_or_flows():
    offenders = {
        m: sorted(n for n in _imported(m) if n.split(".")[0] in {"prefect", "prefect_dask", "flows"})
        for m in MODULES
        if m.startswith("news_pipeline")
    }
    assert {m: v for m, v in offenders.items() if v} == {}


def test_modules_import_only_their_layer_and_below():
    upward = [
        f"{m} -> {n}"
        for m in MODULES
        for n in _project(_imported(m))
        if _layer(n) < _layer(m) and not n.startswith(m + ".") and not m.startswith(n + ".")
    ]
    assert upward == []
    for a, b in SIBLINGS_APART:
        across = [
            f"{m} -> {n}"
            for m in MODULES
            for n in _project(_imported(m))
            if (m.startswith(a) and n.startswith(b)) or (m.startswith(b) and n.startswith(a))
        ]
        assert across == []


def test_no_import_cycles():
    graph = {m: _project(_imported(m)) - {m} for m in MODULES}
    # a package's __init__ re-exporting its submodules is not a cycle with them
    graph = {m: {n for n in deps if not n.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_uses_another_modules_private_names():
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases = {}  # local name -> project module it stands for
        for node in _runtime_imports(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"news_pipeline", "flows"}:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    if alias.name.startswith("_"):
                        found.append(f"{module}: from {node.module} import {alias.name}")
                    if target in MODULES:
                        aliases[alias.asname or alias.name] = target
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES:
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            private = isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
            if private and isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.append(f"{module}: {node.value.id}.{node.attr}")
    assert found == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_modules_and_functions_stay_small(path: Path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
