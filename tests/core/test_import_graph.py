"""The shape of the package, checked from its import statements: no cycles, and every import points down.

The graph's edges are the ``import`` statements of every module under ``captioner/`` (at any depth: imports
inside functions and under ``TYPE_CHECKING`` count too), so a cycle cannot hide behind a lazy import.

Layers, bottom to top; a module imports only from its own package or from layers below it:

0. ``captioner`` (the version), ``exit_codes``, ``paths``, ``resources``, ``settings_migration``
1. ``audio``, ``captions`` (neither imports the other)
2. ``engines`` — and inside it, the contract and shared parts (``base``, ``registry``, ``timeline``, ``options``,
   ``wire``) import no engine, and no engine imports another engine
3. ``secrets``, ``settings``
4. ``session``, ``feed`` (the caption feed: a view of events and transcript changes, like the UI, without Qt)
5. ``ui``
6. ``app`` (the desktop app's composition root), ``listings`` (the CLI's listing commands) and ``cli_args`` (its
   parser), then ``cli`` (the
   command, which starts the app), then
   ``__main__``
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "captioner"

LAYERS: list[tuple[str, ...]] = [
    ("captioner", "captioner.exit_codes", "captioner.paths", "captioner.resources", "captioner.settings_migration"),
    ("captioner.audio", "captioner.captions"),
    ("captioner.engines",),
    ("captioner.secrets", "captioner.settings"),
    ("captioner.session", "captioner.feed"),
    ("captioner.ui",),
    ("captioner.app", "captioner.listings", "captioner.cli_args"),
    ("captioner.cli",),
    ("captioner.__main__",),
]
ENGINE_SHARED = ("base", "registry", "timeline", "options", "wire")


def module_name(path: Path) -> str:
    parts = ["captioner", *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The captioner modules ``name`` imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "captioner")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "captioner":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> tuple[int, str]:
    """(layer index, the package prefix that put it there)."""
    best: tuple[int, str] = (-1, "")
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best[1]):
                best = (i, prefix)
    assert best[0] >= 0, f"{name} is in no layer: add it to LAYERS"
    return best


def test_the_graph_is_read() -> None:
    assert "captioner.session.session" in GRAPH
    assert "captioner.captions.transcript" in GRAPH["captioner.session.session"]
    assert "captioner.audio.base" in GRAPH["captioner.engines.base"]


def test_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles: {cycles}"


def test_every_import_points_down_the_layers() -> None:
    wrong = []
    for name, targets in sorted(GRAPH.items()):
        layer, package = layer_of(name)
        for target in sorted(targets):
            t_layer, t_package = layer_of(target)
            if t_package == package or t_layer < layer:
                continue
            wrong.append(f"{name} -> {target}")
    assert wrong == [], "imports that point up or sideways:\n" + "\n".join(wrong)


def engine_part(name: str) -> str | None:
    """``local``/``assemblyai``/… for a module of an engine subpackage; ``None`` for the shared engine modules."""
    parts = name.split(".")
    if len(parts) < 3 or parts[:2] != ["captioner", "engines"] or parts[2] in ENGINE_SHARED:
        return None
    return parts[2]


def test_engines_are_independent_and_the_contract_imports_none() -> None:
    wrong = []
    for name, targets in sorted(GRAPH.items()):
        if not name.startswith("captioner.engines"):
            continue
        mine = engine_part(name)
        for target in targets:
            theirs = engine_part(target)
            if theirs is not None and theirs != mine:
                wrong.append(f"{name} -> {target}")
    assert wrong == [], "engine modules importing another engine:\n" + "\n".join(wrong)
