"""Calls flowc can follow without running code: the file-default idiom of Metaflow's tutorials.

`os.path.join(os.path.dirname(__file__), "movies.csv")`, directly or through a
module-level helper made only of assignments and a return (the tutorials'
`script_path("movies.csv")`), is "movies.csv" beside the flow: a
FlowRelativePath, which flowc takes only as an IncludeFile default (flowc reads
file defaults relative to the flow's folder, flowc/local/includes.py).  And
`platform.python_version_tuple()[0]` is "3": the major version of every
interpreter flowc and its tasks run on (Metaflow's tutorial 04 picks its
`@conda_base(python=...)` by it).  Every other call is one flowc cannot run.
"""

from __future__ import annotations

import ast
import posixpath
from typing import Any, Callable

from flowc.compiler.static_scope import FLOW_FOLDER, Constants, FlowRelativePath, NotLiteral

Evaluate = Callable[[ast.AST, dict, list], Any]  # literals._eval: (node, constants, budget) -> value


_OS_PATH = ("join", "dirname", "basename", "abspath", "realpath")


def eval_call(node: ast.Call, constants: dict[str, Any], budget: list[int], evaluate_node: Evaluate) -> Any:
    func = node.func
    os_names = getattr(constants, "os_names", set())
    is_os_path = (
        isinstance(func, ast.Attribute)
        and func.attr in _OS_PATH
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "path"
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id in os_names
    )
    if is_os_path and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args):
        return _eval_os_path(node, func.attr, constants, budget, evaluate_node)
    functions = getattr(constants, "functions", {})
    if isinstance(func, ast.Name) and func.id in functions and func.id not in constants:
        return _eval_function(node, functions[func.id], constants, budget, evaluate_node)
    if isinstance(func, ast.Name):
        raise NotLiteral(node, f"a call of '{func.id}', which flowc cannot run; write the value as a literal")
    raise NotLiteral(node, "a function call")


def is_python_major(node: ast.AST, constants: dict[str, Any]) -> bool:
    """`platform.python_version_tuple()[0]`: the one part of the interpreter's version that is the same
    on the machine that compiles and in every task (minor and patch are not: they stay unknown)."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == 0
        and isinstance(node.value, ast.Call)
        and not node.value.args
        and not node.value.keywords
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "python_version_tuple"
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id in getattr(constants, "platform_names", ())
    )


def _is_dunder_file(node: ast.AST, os_names: set[str]) -> bool:
    if isinstance(node, ast.Name) and node.id == "__file__":
        return True  # os.path.abspath/realpath(__file__) name the same folder
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("abspath", "realpath")
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "path"
        and isinstance(node.func.value.value, ast.Name)
        and node.func.value.value.id in os_names
        and len(node.args) == 1
        and not node.keywords
        and _is_dunder_file(node.args[0], os_names)
    )


def _eval_os_path(
    node: ast.Call, name: str, constants: dict[str, Any], budget: list[int], evaluate_node: Evaluate
) -> Any:
    if name == "dirname" and len(node.args) == 1 and _is_dunder_file(node.args[0], constants.os_names):
        return FLOW_FOLDER
    if name in ("abspath", "realpath"):
        raise NotLiteral(node, f"os.path.{name}, a path of the machine that compiles")
    values = [evaluate_node(a, constants, budget) for a in node.args]
    if name == "join" and values:
        first, rest = values[0], values[1:]
        if any(v is FLOW_FOLDER or isinstance(v, FlowRelativePath) or not isinstance(v, str) for v in rest):
            raise NotLiteral(node, "os.path.join of something that is not a constant string")
        if first is FLOW_FOLDER and not rest:
            return FLOW_FOLDER  # the tutorials' `os.path.join(os.path.dirname(__file__))`
        if first is FLOW_FOLDER or isinstance(first, FlowRelativePath):
            base = "" if first is FLOW_FOLDER else str(first)
            joined = posixpath.normpath(posixpath.join(base, *rest))
            if posixpath.isabs(joined) or joined == "." or joined.split("/")[0] == "..":
                raise NotLiteral(node, "a path that is not a file inside the flow file's folder")
            return FlowRelativePath(joined)
        if isinstance(first, str):
            return posixpath.join(first, *rest)
    if name in ("dirname", "basename") and len(values) == 1 and type(values[0]) is str:
        return getattr(posixpath, name)(values[0])
    raise NotLiteral(node, f"os.path.{name} of something flowc cannot read")


def _eval_function(
    node: ast.Call, function: ast.FunctionDef, constants: dict[str, Any], budget: list[int], evaluate_node: Evaluate
) -> Any:
    if getattr(constants, "in_function", False):
        raise NotLiteral(node, f"a call of '{function.name}' inside another function")
    params = [a.arg for a in function.args.args]
    if node.keywords or len(node.args) != len(params) or any(isinstance(a, ast.Starred) for a in node.args):
        raise NotLiteral(node, f"a call of '{function.name}' with other arguments than its {len(params)}")
    scope = Constants(constants)
    scope.in_function = True
    try:
        for param, arg in zip(params, node.args):
            scope[param] = evaluate_node(arg, constants, budget)
        for stmt in body_without_docstring(function):
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    names = scope.platform_names if alias.name == "platform" else scope.os_names
                    names.add(alias.asname or alias.name)
            elif isinstance(stmt, ast.Assign):
                scope[stmt.targets[0].id] = evaluate_node(stmt.value, scope, budget)
            elif isinstance(stmt, ast.Return):
                return evaluate_node(stmt.value, scope, budget)
    except NotLiteral as exc:
        # located at the call: the function's own line is not where the value is used
        raise NotLiteral(
            node, f"a call of '{function.name}' (line {function.lineno}), which flowc cannot follow: {exc}"
        ) from None
    raise NotLiteral(node, f"a call of '{function.name}', which returns nothing")


def body_without_docstring(function: ast.FunctionDef) -> list[ast.stmt]:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body


def is_static_function(stmt: ast.stmt) -> bool:
    """A function flowc can evaluate: positional parameters; `import os`/`platform`, `name = value`, a return."""
    if not isinstance(stmt, ast.FunctionDef) or stmt.decorator_list:
        return False
    args = stmt.args
    if args.posonlyargs or args.vararg or args.kwonlyargs or args.kwarg or args.defaults:
        return False
    body = body_without_docstring(stmt)
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return False
    for inner in body[:-1]:
        if isinstance(inner, ast.Import) and all(a.name in ("os", "os.path", "platform") for a in inner.names):
            continue
        if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
            continue
        return False
    return True
