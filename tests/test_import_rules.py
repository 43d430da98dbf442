"""The import rules of DESIGN.md, read from the source with `ast` (nothing of flowc is imported to check them).

Every `import` and `from ... import` counts, at module level or inside a
function (a lazy import is still an arrow: it runs the first time the function
does).  `from . import x` and `from pkg import x` resolve to the module
`pkg.x` when there is one, else to `pkg`.  An import names one module; the
packages above it run too, but are not counted as arrows of their own:
otherwise every submodule and its package `__init__` would make a "cycle".

- `flowc.contract` imports nothing else of flowc;
- `flowc.runtime` never imports `flowc.compiler`, `flowc.local`, `flowc.deploy`, `flowc.cli`, `flowc.environments`;
- `flowc.compiler` never imports `flowc.runtime`, `flowc.local`, `flowc.deploy`, `flowc.cli`, `flowc.environments`;
- `flowc.environments` (uv: resolving locks, building archives) is the user machine's, called by
  `flowc lock`, `run` and `deploy`: it never imports `flowc.local`, `flowc.deploy`, `flowc.cli`; the
  compiler only reads the lock file and the container only unpacks an archive, so neither imports it;
- `flowc.api` imports only `flowc.api` and `flowc.contract`;
- the package root `flowc/__init__.py` re-exports the authoring API: at module level it imports
  only `flowc.api` and `flowc.contract`; inside a function (its lazy `Run`/`Flow`/`S3`) also
  `flowc.runtime.client` and `flowc.runtime.s3`, which is what the import-time test below checks stays lazy.

Cycles: a cycle among flowc's modules, counting function-local imports, is
refused too.  A package `__init__` that imports its own submodule lazily is
no cycle as long as the submodule imports its siblings by their own names (an
arrow to the package itself, `from flowc.compiler import X`, would close one).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "flowc"
HEAVY = ("click", "networkx", "hera", "jinja2", "boto3", "yaml")

# module prefix -> prefixes it must never import
FORBIDDEN = {
    "flowc.runtime": ("flowc.compiler", "flowc.local", "flowc.deploy", "flowc.cli", "flowc.environments"),
    "flowc.compiler": ("flowc.runtime", "flowc.local", "flowc.deploy", "flowc.cli", "flowc.environments"),
    # uv must never become a need of compile (pure) or of the container (fetches by hash only)
    "flowc.environments": ("flowc.local", "flowc.deploy", "flowc.cli"),
}
# module prefix -> the only flowc prefixes it may import
ONLY = {
    "flowc.contract": ("flowc.contract",),
    "flowc.api": ("flowc.api", "flowc.contract"),
}
ROOT_MODULE_LEVEL = ("flowc.api", "flowc.contract")
ROOT_LAZY = ROOT_MODULE_LEVEL + ("flowc.runtime.client", "flowc.runtime.s3")


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int
    lazy: bool  # inside a function

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line}{', function-local' if self.lazy else ''})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]):
        self.module, self.known, self.depth = module, known, 0
        self.package = module if is_package else module.rpartition(".")[0]
        self.arrows: list[Arrow] = []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, target: str, node) -> None:
        if _within(target, "flowc"):
            self.arrows.append(Arrow(self.module, target, node.lineno, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        for alias in node.names:
            submodule = f"{origin}.{alias.name}"
            self._add(submodule if submodule in self.known else origin, node)


def arrows() -> list[Arrow]:
    modules = all_modules()
    found = []
    for name, path in modules.items():
        collector = _Collector(name, path.name == "__init__.py", set(modules))
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += collector.arrows
    return found


def forbidden_arrows() -> list[str]:
    problems = []
    for arrow in arrows():
        source, target = arrow.source, arrow.target
        if source == "flowc":
            allowed = ROOT_LAZY if arrow.lazy else ROOT_MODULE_LEVEL
            if not any(_within(target, p) for p in allowed):
                problems.append(f"{arrow}: the package root loads only the authoring API")
            continue
        for prefix, never in FORBIDDEN.items():
            if _within(source, prefix) and any(_within(target, n) for n in never):
                problems.append(f"{arrow}: {prefix} never imports {target.split('.')[1]}")
        for prefix, only in ONLY.items():
            if _within(source, prefix) and not any(_within(target, o) for o in only):
                problems.append(f"{arrow}: {prefix} imports only {', '.join(only)}")
    return problems


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of two or more modules (or a module importing itself), each sorted."""
    graph: dict[str, set[str]] = {name: set() for name in all_modules()}
    for arrow in arrows():
        if arrow.target in graph:
            graph[arrow.source].add(arrow.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph has a few hundred nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_collector_resolves_relative_and_submodule_imports():
    source = "from . import b\nfrom .c import d\nimport flowc.x\ndef f():\n    from flowc.p import q\n"
    collector = _Collector("flowc.pkg.a", False, {"flowc.pkg.b", "flowc.p.q"})
    collector.visit(ast.parse(source))
    assert [(a.target, a.lazy) for a in collector.arrows] == [
        ("flowc.pkg.b", False),
        ("flowc.pkg.c", False),
        ("flowc.x", False),
        ("flowc.p.q", True),
    ]


def test_no_forbidden_import():
    assert forbidden_arrows() == []


def test_no_import_cycle():
    assert import_cycles() == []


def test_import_flowc_loads_only_the_authoring_api():
    probe = (
        "import sys\n"
        "import flowc\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in " + repr(HEAVY) + " or any(\n"
        "    m == p or m.startswith(p + '.') for p in ('flowc.compiler', 'flowc.cli', 'flowc.deploy', 'flowc.local')))\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
