"""The code's shape, for before/after comparisons: App's size, long functions, long modules and import
circles between the product's top-level packages.

    python bench/code_shape.py [ROOT]        (ROOT: a checkout, default this one)
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

LONG_FUNCTION = 60
LONG_MODULE = 300
NOT_PRODUCT = {"tests", "bench", "tools", "data", "docs", "build", "sim"}


def product_modules(root: Path) -> list[Path]:
    """The installed packages' modules (migrations excluded: generated, append-only)."""
    found = []
    for init in sorted(root.glob("*/__init__.py")):
        package = init.parent
        if package.name in NOT_PRODUCT or package.name.startswith("."):
            continue
        found += [p for p in sorted(package.rglob("*.py")) if "migrations" not in p.parts]
    return found


def package_edges(root: Path, modules: list[Path]) -> dict[str, set[str]]:
    """Which top-level package imports which (any import, at any depth, lazy imports included)."""
    packages = {m.relative_to(root).parts[0] for m in modules}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in modules:
        source = path.relative_to(root).parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                target = name.split(".")[0]
                if target in packages and target != source:
                    edges[source].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of packages that reach each other (directly or through others)."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reached = {p: reach(p) for p in list(edges)}
    return sorted((a, b) for a in reached for b in reached[a] if a < b and a in reached.get(b, set()))


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    modules = product_modules(root)
    long_functions, long_modules, app_lines = [], [], 0
    for path in modules:
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        name = str(path.relative_to(root))
        if lines > LONG_MODULE:
            long_modules.append((lines, name))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > LONG_FUNCTION:
                    long_functions.append((size, f"{name}:{node.name}"))
            if isinstance(node, ast.ClassDef) and node.name == "App" and path.parent.name == "bot":
                app_lines = (node.end_lineno or node.lineno) - node.lineno + 1
    edges = package_edges(root, modules)
    loops = circles(edges)
    print(f"product modules: {len(modules)}, {sum(len(p.read_text().splitlines()) for p in modules)} lines")
    print(f"App class: {app_lines} lines")
    print(f"functions over {LONG_FUNCTION} lines: {len(long_functions)}")
    for size, name in sorted(long_functions, reverse=True):
        print(f"  {size:4d}  {name}")
    print(f"modules over {LONG_MODULE} lines: {len(long_modules)}")
    for size, name in sorted(long_modules, reverse=True):
        print(f"  {size:4d}  {name}")
    print(f"packages that import each other (directly or round a circle): {len(loops)}")
    for a, b in loops:
        print(f"  {a} <-> {b}")


if __name__ == "__main__":
    main()
