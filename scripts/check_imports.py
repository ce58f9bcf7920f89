"""Import every module of srnn_bench and report import cycles between them.

    python scripts/check_imports.py              # exit 1 on a failed import, a cycle or an entry point imported
    python scripts/check_imports.py --graph      # also print every module's srnn_bench imports
    python scripts/check_imports.py --packages   # cycles between sub-packages (srnn_bench.kernels, ...) instead

The graph is read from the source (``ast``): an edge ``a -> b`` for every ``import`` / ``from ... import``
in module ``a`` naming module ``b`` of the package, at the top of the file or deferred inside a function
(a deferred import hides a cycle from the interpreter, not from the architecture). ``from pkg import name``
points at ``pkg.name`` when that is a module, else at ``pkg`` (its ``__init__``); importing ``pkg.mod`` is not
counted as importing ``pkg``'s ``__init__``. A cycle is a strongly connected component of more than one
module (or a module importing itself); each is printed with one closed path through it and the lines
that make it. Entry points (every ``__main__`` module and the ``python -m`` shims of :data:`SHIMS`) are
imported by no module of the package: code both need lives in a module they import (``srnn_bench/cli.py``),
so running one never runs another's setup. Modules whose import needs an optional third-party package that is not installed
(``triton``, ...) are listed as skipped, not as failures.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "srnn_bench"
SHIMS = {"srnn_bench.energy"}
"""``python -m`` entry points that are not ``__main__`` modules (a shim over :mod:`srnn_bench.reporting.energy`)."""


def modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file for every ``.py`` file of the package (``pkg/__init__.py`` is ``pkg``)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _packages(mods: dict[str, Path]) -> set[str]:
    """Modules that are packages (a directory: ``__init__.py`` or a namespace directory)."""
    pkgs = {m for m, p in mods.items() if p.name == "__init__.py"}
    return pkgs | {m.rsplit(".", 1)[0] for m in mods if "." in m}


def imports(
    name: str, path: Path, mods: dict[str, Path], pkgs: set[str], package: str = PACKAGE
) -> list[tuple[str, int, bool]]:
    """``(imported module, line, deferred)`` for every package-internal import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = name if name in pkgs and path.name == "__init__.py" else name.rpartition(".")[0]
    deferred_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            deferred_nodes.update(id(n) for n in ast.walk(node) if n is not node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            deferred_nodes.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for a in node.names:
                full = f"{prefix}.{a.name}"
                targets.append(full if full in mods else prefix)
        for target in targets:
            while target and target not in mods:  # `import a.b.c` of a module a.b.c, or its closest package
                target = target.rpartition(".")[0]
            if target and target.split(".")[0] == package:
                out.append((target, node.lineno, id(node) in deferred_nodes))
    return out


def graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, dict[str, list[tuple[int, bool]]]]:
    """``{module: {imported module: [(line, deferred), ...]}}`` over the package."""
    mods = modules(root, package)
    pkgs = _packages(mods)
    g: dict[str, dict[str, list[tuple[int, bool]]]] = {m: {} for m in mods}
    for name, path in mods.items():
        for target, line, deferred in imports(name, path, mods, pkgs, package):
            lines = g[name].setdefault(target, [])
            if (line, deferred) not in lines:  # `from m import a, b` is one import of m
                lines.append((line, deferred))
    return g


def collapse(g: dict[str, dict[str, list]]) -> dict[str, dict[str, list]]:
    """The graph between sub-packages (``srnn_bench.kernels.scan`` counts as ``srnn_bench.kernels``)."""

    def top(m: str) -> str:
        return ".".join(m.split(".")[:2])

    out: dict[str, dict[str, list]] = {}
    for a, deps in g.items():
        out.setdefault(top(a), {})
        for b, lines in deps.items():
            if top(a) != top(b):
                out[top(a)].setdefault(top(b), []).extend((f"{a} -> {b}", line, d) for line, d in lines)
    return out


def cycles(g: dict[str, dict]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan), each sorted, the list sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:  # iterative enough for a package of ~100 modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, {}):
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
            if len(comp) > 1 or v in g.get(v, {}):
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(out)


def entry_imports(g: dict[str, dict], shims: set[str] = SHIMS) -> list[tuple[str, str, int]]:
    """``(importer, entry point, line)`` for every import of an entry point (``__main__`` or a shim)."""
    entries = {m for m in g if m.rpartition(".")[2] == "__main__"} | (shims & set(g))
    return sorted((a, b, line) for a, deps in g.items() for b, lines in deps.items() if b in entries for line, _ in lines)


def closed_path(g: dict[str, dict], comp: list[str]) -> list[str]:
    """One cycle through the component's first module (breadth-first, so a shortest one)."""
    start, inside = comp[0], set(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(g[v]):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return [*reversed(path), start]
                if w in inside and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start, start]


def import_all(mods: list[str]) -> tuple[list[str], list[str]]:
    """Import every module; ``(failures, skipped)`` as one line each."""
    failures, skipped = [], []
    for name in mods:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and e.name.split(".")[0] != PACKAGE:
                skipped.append(f"{name}: needs {e.name} (not installed)")
            else:
                failures.append(f"{name}: {type(e).__name__}: {e}")
        except Exception as e:  # noqa: BLE001 - report every failing module, not only the first
            failures.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    return failures, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", action="store_true", help="print every module's package-internal imports")
    ap.add_argument("--packages", action="store_true", help="cycles between sub-packages instead of modules")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    g = graph()
    failures, skipped = import_all(sorted(g))
    if args.packages:
        pg = collapse(g)
        found = cycles(pg)
        for comp in found:
            path = closed_path(pg, comp)
            print(f"sub-package cycle: {' -> '.join(path)}")
            for a, b in pairwise(path):
                print("\n".join(f"  {what}   (line {line}{', deferred' if d else ''})" for what, line, d in pg[a][b]))
        print(f"{len(pg)} sub-packages, {len(found)} cycle(s), {len(failures)} failed import(s)")
        return 1 if found or failures else 0
    if args.graph:
        for m in sorted(g):
            deps = ", ".join(
                f"{t}{'' if any(not d for _, d in ls) else ' (deferred)'}" for t, ls in sorted(g[m].items())
            )
            print(f"{m} -> {deps or '-'}")
    found = cycles(g)
    for comp in found:
        path = closed_path(g, comp)
        steps = []
        for a, b in pairwise(path):
            line, deferred = g[a][b][0]
            steps.append(f"  {a} -> {b}   ({g_file(a)}:{line}{', deferred' if deferred else ''})")
        print(f"import cycle among {len(comp)} module(s): {', '.join(comp)}\n" + "\n".join(steps))
    entry = entry_imports(g)
    for a, b, line in entry:
        print(f"entry point imported: {a} -> {b}   ({g_file(a)}:{line}); move what both need to a module both import")
    for line in failures:
        print(f"import failed: {line}")
    for line in skipped:
        print(f"skipped: {line}")
    n_edges = sum(len(v) for v in g.values())
    print(
        f"{len(g)} modules, {n_edges} internal imports, {len(found)} cycle(s), {len(failures)} failed import(s), "
        f"{len(skipped)} skipped, {len(entry)} entry-point import(s)"
    )
    return 1 if found or failures or entry else 0


def g_file(module: str) -> str:
    return str(modules()[module].relative_to(ROOT))


if __name__ == "__main__":
    sys.exit(main())
