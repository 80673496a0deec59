"""The code layout the README's code map promises: one folder per stage, no import cycles."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg, folder in PACKAGE_DIRS.items():
        for f in (REPO / folder).glob("*.py"):
            mods[pkg if f.stem == "__init__" else f"{pkg}.{f.stem}"] = f
    return mods


def _imports(path: Path, mods: dict[str, Path]) -> set[str]:
    """Every modeldash module ``path`` imports, at top level or inside a function."""
    deps = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("modeldash"):
            deps.add(node.module)
            deps.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            deps.update(a.name for a in node.names)
    return {d for d in deps if d in mods and d != "modeldash"}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    mods = _modules()
    graph = {name: _imports(path, mods) - {name} for name, path in mods.items()}
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_code_folder_is_a_modeldash_subpackage():
    # Never a bare top-level package: each mapped folder is modeldash or modeldash.<folder>.
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(setuptools["packages"]) == set(PACKAGE_DIRS)
    for pkg, folder in PACKAGE_DIRS.items():
        assert pkg == "modeldash" or pkg == f"modeldash.{folder}", (pkg, folder)


def test_stages_live_in_their_own_folders():
    names = {p.stem for p in (REPO / "dashboards").glob("*.py")}
    # dashboards/ holds dashboards only: spec, alerts, manifests and sync have folders of their own.
    assert not {n for n in names if n.startswith(("spec", "alert", "k8s", "routing", "recording", "ownership", "desired"))}
    assert not (REPO / "scripts" / "rules_for_tests.py").exists()
    for folder in ("spec", "alerts", "k8s", "sync"):
        assert (REPO / folder / "__init__.py").exists()


def test_builders_do_no_io():
    # Building is pure: no module outside scripts/ (and the simulator's server) opens sockets,
    # starts processes or writes files.
    io = {"subprocess", "socket", "http.server", "urllib.request", "niquests", "shutil", "tempfile"}
    offenders = []
    for name, path in _modules().items():
        if name.startswith(("modeldash.scripts", "modeldash.simulator", "modeldash.instrumentation", "modeldash.examples")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            offenders += [f"{name}: {m}" for m in mods if m in io]
    assert offenders == []
