"""The package layout holds: no import circles, and no package imports one above it.

The layers, lowest first, are the ones drawn in `portal/ARCHITECTURE.md`. Every import is
counted, including those inside functions (an import moved into a function to dodge a
circle is still a circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

from portal.core.settings import REPO_ROOT

LAYERS: list[tuple[str, ...]] = [
    ("portal.core",),
    ("portal.models",),
    ("portal.tenancy",),
    ("portal.places",),
    ("portal.mail",),
    ("portal.reports",),
    ("portal.engagement",),
    ("portal.staff",),
    ("portal.data",),
    ("portal.open311",),
    ("portal.sms",),
    ("portal.web",),
    ("portal.middleware",),
    ("portal.routes",),
    ("widgets",),
    ("portal.operator",),  # the operators' pages: portals, bodies and their widget snippets
    ("portal.reactions", "portal.worker", "portal.app", "portal.cli", "portal.tenant_commands",
     "portal.operator_commands", "portal.import_commands", "portal.cli_support",
     "portal.migrations"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for folder in ("portal", "widgets"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if "versions" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that `name` imports, resolving `from pkg import module`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if candidate in known:
                    out.add(candidate)
                elif target in known:
                    out.add(target)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
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
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int | None:
    for number, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return number
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        mine = layer_of(module)
        for target in sorted(targets):
            theirs = layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                bad.append(f"{module} imports {target} (a higher layer)")
    return bad


def test_there_is_no_import_circle_in_portal_or_widgets():
    assert cycles(import_graph()) == []


def test_no_package_imports_a_package_above_it():
    assert upward_imports(import_graph()) == []


def test_every_module_belongs_to_a_layer():
    unplaced = [m for m in import_graph() if m not in ("portal",) and layer_of(m) is None]
    assert unplaced == []


def test_the_checks_catch_a_circle_and_an_upward_import():
    graph = {"portal.reports.reporting": {"portal.engagement.watching"},
             "portal.engagement.watching": {"portal.reports.reporting"},
             "portal.mail.outbox": set()}
    assert cycles(graph) == [["portal.engagement.watching", "portal.reports.reporting"]]
    assert upward_imports(graph) == [
        "portal.reports.reporting imports portal.engagement.watching (a higher layer)"]
