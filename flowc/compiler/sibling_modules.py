"""Constants a flow imports from modules beside it, read with `ast` (never imported).

`from settings import MEMORY` where settings.py sits next to the flow file
makes MEMORY usable wherever a constant is: the module's own module-level
constants (and what it imports the same way) are evaluated statically.  A
module that is not a file beside the flow, or a name that is not a constant
there, is not an error until the flow uses it as a value; the error then says
where the name came from and why flowc cannot see its value.
"""

from __future__ import annotations

import ast
import os

from flowc.compiler.literals import Constants, module_constants

API_MODULES = ("flowc", "metaflow")
MAX_MODULE_BYTES = 4 * 1024 * 1024  # a settings module, not a data file
MAX_DEPTH = 8  # settings importing settings importing ...: bounded, and cycles stop at once


def imported_constants(body: list[ast.stmt], flow_path: str) -> Constants:
    """The values of names `body` (the flow file's) imports from modules beside it; reasons for the rest."""
    root = os.path.dirname(flow_path) or "."
    return _imported(body, root, None, frozenset())


def _imported(body: list[ast.stmt], root: str, package: str | None, seen: frozenset[str]) -> Constants:
    """`root`: the flow's folder, where Python finds `from settings import X` (the flow's folder is
    sys.path[0]); `package`: the folder of the module reading `body` when it is in a package, where
    `from .base import X` is found (the flow file itself is in none)."""
    out = Constants()
    for stmt in body:
        if not isinstance(stmt, ast.ImportFrom) or stmt.module is None:
            continue
        if stmt.level == 0 and stmt.module.split(".")[0] in API_MODULES:
            continue
        dotted = "." * stmt.level + stmt.module
        names = [(a.name, a.asname or a.name) for a in stmt.names]
        folder = root if stmt.level == 0 else package if stmt.level == 1 else None
        path = _module_file(folder, stmt.module) if folder is not None else None
        if folder is None:
            why = "a relative import outside a package beside the flow"
        elif path is None:
            why = "which is not a .py file beside the flow"
        if path is None:
            for _name, bound in names:
                out.unresolved[bound] = f"imported from '{dotted}', {why}"
            continue
        shown = os.path.relpath(path, root)
        constants, problem = _read_module(path, root, seen)
        for name, bound in names:
            if problem is not None:
                out.unresolved[bound] = f"imported from '{dotted}' ({shown}), which flowc cannot read: {problem}"
            elif name == "*":
                out.update({k: v for k, v in constants.items() if not k.startswith("_")})
            elif name in constants:
                out[bound] = constants[name]
            else:
                out.unresolved[bound] = f"imported from '{dotted}' ({shown}), where it is not a module-level constant"
    return out


def _module_file(folder: str, module: str) -> str | None:
    base = os.path.join(folder, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _read_module(path: str, root: str, seen: frozenset[str]) -> tuple[Constants, str | None]:
    real = os.path.realpath(path)
    if real in seen or len(seen) >= MAX_DEPTH:
        return Constants(), "it imports itself in a cycle, or too deeply"
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MODULE_BYTES + 1)
        if len(data) > MAX_MODULE_BYTES:
            return Constants(), f"it is larger than {MAX_MODULE_BYTES} bytes"
        tree = ast.parse(data.decode("utf-8").removeprefix("\ufeff"), filename=path)
    except OSError as exc:
        return Constants(), exc.strerror or str(exc)
    except UnicodeDecodeError as exc:
        return Constants(), f"it is not UTF-8 ({exc.reason} at byte {exc.start})"
    except SyntaxError as exc:
        return Constants(), f"syntax error at line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return Constants(), f"it cannot be parsed ({exc})"
    folder = os.path.dirname(path)
    package = folder if os.path.isfile(os.path.join(folder, "__init__.py")) else None
    inherited = _imported(tree.body, root, package, seen | {real})
    return module_constants(tree.body, inherited), None
