"""What a flow file's imports make of its names, read with `ast` (the file is never imported)."""

from __future__ import annotations

import ast

from flowc.contract.decorators import DECORATORS, FOREIGN_DECORATORS

API_MODULES = ("flowc", "metaflow")
API_NAMES = {"FlowSpec", "step", "Parameter", "IncludeFile", "JSONType", "current", "Config", "config_expr"}


class Names:
    """What the file's imports make of a name: ('api', 'step'), or None if foreign."""

    def __init__(self, tree: ast.Module):
        self.direct: dict[str, str] = {}
        self.modules: set[str] = set()
        self.star = False
        for node in _import_statements(tree.body):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in API_MODULES:
                for alias in node.names:
                    if alias.name == "*":
                        self.star = True
                    else:
                        self.direct[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in API_MODULES:
                        self.modules.add(alias.asname or alias.name.split(".")[0])

        self.bound = _bound_names(tree)
        # `from elsewhere import *` may bind any name, so no name can be said to be unbound.
        self.foreign_star = any(
            isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) and n.module not in API_MODULES
            for n in ast.walk(tree)
        )

    def unimported(self, node: ast.AST) -> str | None:
        """The flowc/metaflow name a decorator uses without any import binding it (a NameError when the
        module runs), e.g. 'retry' for `@retry(times=2)` with no `retry` imported; else None."""
        if isinstance(node, ast.Call):
            node = node.func
        if self.foreign_star or self.resolve(node) is not None:
            return None
        if isinstance(node, ast.Name) and node.id not in self.bound:
            known = node.id == "step" or node.id in DECORATORS or node.id in FOREIGN_DECORATORS
            return node.id if known else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in API_MODULES and node.value.id not in self.bound:
                return f"{node.value.id}.{node.attr}"
        return None

    def resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Name):
            if node.id in self.direct:
                return self.direct[node.id]
            if self.star and (node.id in API_NAMES or node.id in DECORATORS):
                return node.id
            return None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.modules:
            return node.attr
        return None


def _import_statements(body: list[ast.stmt]):
    """The module's top-level statements, with those of a top-level `try:` (its body, handlers, else and
    finally): flows guard their imports with `try: from metaflow import ... except ImportError: ...`."""
    for node in body:
        if isinstance(node, ast.Try):
            yield from _import_statements(node.body)
            for handler in node.handlers:
                yield from _import_statements(handler.body)
            yield from _import_statements(node.orelse)
            yield from _import_statements(node.finalbody)
        else:
            yield node


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the file binds anywhere (imports, defs, classes, assignments): more than the module
    scope holds, so a name counted unbound surely is."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return bound
