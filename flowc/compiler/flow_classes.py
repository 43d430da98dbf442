"""Which class in a flow file is the runnable flow, and the flow classes it inherits from.

A flow class derives from FlowSpec, from another flow class in the file, or
from a flow class imported from a sibling module (`from base_flows import
BaseFlow`, read with `ast` like the flow file: never imported).  The runnable
one is the most derived class of the file (a leaf no other flow class derives
from), as the runtime's loader picks it; two unrelated leaves are two flows.
The order a subclass inherits in is Python's own method resolution order,
computed on empty stand-in classes (no user code runs).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import Any

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import Location

MAX_SIBLING_BYTES = 8 * 1024 * 1024  # as for the flow file itself (flowc/compiler/source.py)


@dataclass
class Origin:
    """The file a flow class is written in, and what its imports and constants make of names."""

    filename: str
    source: str
    tree: ast.Module
    names: Any  # the file's Names (flowc/compiler/imports.py)


class _Resolver:
    def __init__(self, frontend, names_of):
        self.frontend = frontend
        self.names_of = names_of  # imports.Names, passed in by the frontend
        self.root = type("FlowSpec", (), {})
        self.nodes: dict[type, tuple[ast.ClassDef, Origin]] = {}
        self.siblings: dict[str, dict[str, type] | None] = {}  # path -> its flow classes (None while read)

    def error(self, origin: Origin, node: ast.AST, message: str) -> None:
        location = Location(origin.filename, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1)
        self.frontend.diagnostics.append(Diagnostic(location, message))

    def flow_classes(self, origin: Origin, main: bool) -> dict[str, type] | None:
        """{name: stand-in} of the file's flow classes, in definition order (None after an error)."""
        found: dict[str, type] = {}
        for node in origin.tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases = []
            for base in node.bases:
                if origin.names.resolve(base) == "FlowSpec":
                    bases.append(self.root)
                elif isinstance(base, ast.Name) and base.id in found:
                    bases.append(found[base.id])
                elif isinstance(base, ast.Name):
                    imported = self.imported(origin, base.id)
                    if imported is not None:
                        bases.append(imported)
            if not bases:
                continue
            if main and node.name in found:
                first = self.nodes[found[node.name]][0]
                self.error(
                    origin,
                    node,
                    f"a second FlowSpec class '{node.name}' (the first is '{node.name}' "
                    f"at line {first.lineno}); give each flow class its own name",
                )
                return None
            try:
                stand_in = type(node.name, tuple(bases), {})
            except TypeError as exc:  # duplicate base, or no consistent order (Python refuses the class too)
                self.error(
                    origin,
                    node,
                    f"class '{node.name}' cannot derive from these flow classes: {' '.join(str(exc).split())}",
                )
                return None
            self.nodes[stand_in] = (node, origin)
            found[node.name] = stand_in
        return found

    def imported(self, origin: Origin, name: str) -> type | None:
        """The flow class `name` imported from a sibling module of ORIGIN's file, or None."""
        for node in origin.tree.body:
            if not (isinstance(node, ast.ImportFrom) and node.level <= 1 and node.module):
                continue
            for alias in node.names:
                if (alias.asname or alias.name) != name:
                    continue
                folder = os.path.dirname(origin.filename)
                path = os.path.join(folder, *node.module.split(".")) + ".py"
                if not os.path.isfile(path):
                    return None  # not a sibling module (a package): not read, as before
                classes = self.sibling(origin, node, path)
                return classes.get(alias.name) if classes else None
        return None

    def sibling(self, origin: Origin, at: ast.ImportFrom, path: str) -> dict[str, type] | None:
        if path in self.siblings:
            return self.siblings[path]  # None while it is read: a cycle of imports has no flow base
        self.siblings[path] = None
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_SIBLING_BYTES + 1)
            if len(data) > MAX_SIBLING_BYTES:
                raise ValueError(f"it is over {MAX_SIBLING_BYTES:,} bytes")
            source = data.decode("utf-8-sig")
            tree = ast.parse(source, filename=path)
        except (OSError, ValueError, SyntaxError, RecursionError, MemoryError) as exc:
            self.error(origin, at, f"cannot read {path} for its flow classes: {exc}")
            return None
        classes = self.flow_classes(Origin(path, source, tree, self.names_of(tree)), main=False)
        self.siblings[path] = classes
        return classes


def flow_chain(frontend, tree: ast.Module, names_of) -> list[tuple[ast.ClassDef, Origin]] | None:
    """The runnable flow class and its flow bases, most basic first; None (after an error) if there is none."""
    resolver = _Resolver(frontend, names_of)
    origin = Origin(frontend.filename, frontend.source, tree, frontend.names)
    flows = resolver.flow_classes(origin, main=True)
    if flows is None:
        return None
    if not flows:
        frontend.error(
            None,
            "no FlowSpec class in this file (expected `class MyFlow(FlowSpec):` "
            "with FlowSpec imported from flowc or metaflow)",
        )
        return None
    derived_from = {base for stand_in in flows.values() for base in stand_in.__bases__}
    leaves = [resolver.nodes[s][0] for s in flows.values() if s not in derived_from]
    for extra in leaves[1:]:
        frontend.error(
            extra,
            f"a second FlowSpec class '{extra.name}' (the first is '{leaves[0].name}' "
            f"at line {leaves[0].lineno}) and neither derives from the other; put one flow in each file",
        )
    leaf = flows[leaves[0].name]
    return [resolver.nodes[klass] for klass in reversed(leaf.__mro__) if klass in resolver.nodes]
