"""The package's shape, checked on every run: no import cycle (imports inside functions
included), no module over 400 lines, every import inside a function says why, and only the
``airflow/`` layer (plus the plugin and the HTTP/UI/CLI faces that Airflow calls) imports Airflow.

Why our own check beside import-linter's contracts (``.importlinter``): import-linter checks
layers between packages; a cycle between two modules of one layer is what this finds.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_webhook_trigger"
MAX_LINES = 400
# modules outside airflow/ allowed to import Airflow: what Airflow itself loads (the plugin
# class, the provider's CLI group)
AIRFLOW_FACES = {"airflow_webhook_trigger.plugin", "airflow_webhook_trigger.cli.airflow_group",
                 "airflow_webhook_trigger.config"}  # config: its options are read through Airflow's config


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every import of ``path``."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = name if is_package else name.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}".rstrip(".")
                for alias in child.names:  # ``from pkg import module`` imports the module
                    target = f"{base}.{alias.name}"
                    found.append((target if target in MODULES else base, child.lineno, in_function))
            visit(child, inside)

    visit(tree, False)
    return found


GRAPH = {name: {target for target, _, _ in _imports(name, path) if target in MODULES and target != name}
         for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in graph:
        if node not in index:
            connect(node)
    return result


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_no_module_over_400_lines():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_import_inside_a_function_says_why():
    silent = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for _, line, in_function in _imports(name, path):
            if not in_function:
                continue
            above = line - 1  # a block of imports shares the comment of its first line
            while above >= 1 and lines[above - 1].strip().startswith(("from ", "import ")) and "#" not in lines[above - 1]:
                above -= 1
            said = "#" in lines[line - 1] or (above >= 1 and "#" in lines[above - 1])
            if not said:
                silent.append(f"{path.relative_to(ROOT)}:{line}")
    assert silent == []


def test_only_the_airflow_layer_imports_airflow():
    outside = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if not name.startswith("airflow_webhook_trigger.airflow") and name not in AIRFLOW_FACES
        for target, _, _ in _imports(name, path)
        if target == "airflow" or target.startswith("airflow.")
    )
    assert outside == []


@pytest.mark.skipif(shutil.which("lint-imports") is None and not (Path(sys.executable).parent / "lint-imports").exists(),
                    reason="import-linter is not installed in this environment (pip install import-linter)")
def test_import_linter_contracts():
    command = [str(Path(sys.executable).parent / "lint-imports")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_has_its_layer_in_importlinter():
    """A new top-level module must be placed in ``.importlinter``'s layers, or its imports go unchecked."""
    text = (ROOT / ".importlinter").read_text()
    listed = set(re.findall(r"airflow_webhook_trigger\.(\w+)", text))
    top = {name.split(".")[1] for name in MODULES if name.count(".") >= 1} - {"__init__"}
    assert top - listed == set()
