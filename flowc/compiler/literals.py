"""Evaluate decorator and Parameter arguments statically.

An argument is a literal, a name bound to a literal at module or class level
(`MEM = 16000` then `@resources(memory=MEM)`) or imported from a module beside
the flow (flowc/compiler/sibling_modules.py), arithmetic on those
(`memory=16 * 1024`), text built from them (f-strings, `"...".format(...)`,
`"..." % ...`) and `{**BASE, ...}`.  Anything else is not knowable without
running user code, so it is an error that says what was found.
"""

from __future__ import annotations

import ast
import operator
import re
import string
from typing import Any

from flowc.compiler import configs
from flowc.compiler.static_calls import eval_call, is_python_major, is_static_function
from flowc.compiler.static_scope import FLOW_FOLDER, Constants, FlowRelativePath, NotLiteral

__all__ = ["Constants", "FlowRelativePath", "NotLiteral", "evaluate", "module_constants", "contains_flow_path"]

_SCALARS = (str, int, float, bool, type(None))
_LONG_NUMBER = re.compile(r"\d{5,}")  # a width like {:99999999} would build a huge string


_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}

_DESCRIBE = {
    ast.Call: "a function call",
    ast.Attribute: "an attribute lookup",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.JoinedStr: "an f-string",
    ast.IfExp: "a conditional expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "a boolean expression",
    ast.ListComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.SetComp: "a comprehension",
    ast.Starred: "a starred expression",
    ast.NamedExpr: "an assignment expression",
}

MAX_LITERAL_NODES = 100_000  # bound the work one hostile literal can cause


def describe(node: ast.AST) -> str:
    return _DESCRIBE.get(type(node), f"a {type(node).__name__} expression")


def evaluate(node: ast.AST, constants: dict[str, Any]) -> Any:
    """The value of `node`, or NotLiteral naming the offending sub-expression."""
    budget = [MAX_LITERAL_NODES]
    value = _eval(node, constants, budget)
    if value is FLOW_FOLDER:
        raise NotLiteral(node, "the flow file's folder, a path of the machine that compiles")
    return value


def contains_flow_path(value: Any) -> bool:
    if isinstance(value, FlowRelativePath):
        return True
    if isinstance(value, dict):
        return any(contains_flow_path(v) for v in value.values())
    return isinstance(value, list) and any(contains_flow_path(v) for v in value)


def _eval(node: ast.AST, constants: dict[str, Any], budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise NotLiteral(node, "a literal too large to evaluate")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bytes, complex)) or node.value is Ellipsis:
            raise NotLiteral(node, f"a {type(node.value).__name__} literal")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in constants:
            return constants[node.id]
        if node.id in getattr(constants, "configs", {}):
            return constants.configs[node.id]
        why = getattr(constants, "unresolved", {}).get(node.id, "which is not a module-level constant")
        raise NotLiteral(node, f"the name '{node.id}', {why}")
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, constants, budget) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                expanded = _eval(v, constants, budget)
                if not isinstance(expanded, dict):
                    raise NotLiteral(v, "a ** expansion of something that is not a dict")
                out.update(expanded)
                continue
            key = _eval(k, constants, budget)
            if not isinstance(key, (str, int, float, bool)):
                raise NotLiteral(k, "a dict key that is not a string or number")
            out[key] = _eval(v, constants, budget)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, constants, budget)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
        raise NotLiteral(node, "a sign on something that is not a number")
    if isinstance(node, ast.JoinedStr):
        return "".join(_eval_fstring_part(part, constants, budget) for part in node.values)
    if _is_str_format(node):
        return _eval_str_format(node, constants, budget)
    if is_python_major(node, constants):
        return "3"
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in getattr(constants, "classes", {})
        and node.value.id not in constants
    ):
        members = constants.classes[node.value.id]
        if node.attr in members:
            return members[node.attr]
        why = getattr(members, "unresolved", {}).get(node.attr, "which the class does not bind")
        raise NotLiteral(node, f"'{node.value.id}.{node.attr}', {why}")
    if isinstance(node, ast.Subscript) and not _rooted_in_config(node, constants):
        return _eval_subscript(node, constants, budget)
    if isinstance(node, (ast.Attribute, ast.Subscript)) or configs.is_config_expr(node, constants):
        return configs.access(node, constants, budget, _eval)  # `cfg.a.b`, `config_expr("cfg.a")`
    if isinstance(node, ast.Call):
        return eval_call(node, constants, budget, _eval)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left = _eval(node.left, constants, budget)
        right = _eval(node.right, constants, budget)
        _refuse_path_in_text(node, left, right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            return _percent_format(node, left, right)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        strings = isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str)
        if not (numbers or strings):
            raise NotLiteral(node, "arithmetic on values that are not numbers")
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise NotLiteral(node, "an exponent too large to evaluate")
        try:
            return _BINOPS[type(node.op)](left, right)
        except ArithmeticError as exc:
            raise NotLiteral(node, f"arithmetic that fails ({exc})") from None
    raise NotLiteral(node, describe(node))


def _rooted_in_config(node: ast.AST, constants: dict[str, Any]) -> bool:
    root = node
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        root = root.value
    if isinstance(root, ast.Name):
        return root.id in getattr(constants, "configs", {}) and root.id not in constants
    return configs.is_config_expr(root, constants)


def _eval_subscript(node: ast.Subscript, constants: dict[str, Any], budget: list[int]) -> Any:
    """`TABLE[key]` of a constant dict or list (`versions[platform.python_version_tuple()[0]]`)."""
    value = _eval(node.value, constants, budget)
    key = _eval(node.slice, constants, budget)
    if isinstance(value, dict) and isinstance(key, (str, int, float, bool)) and key in value:
        return value[key]
    if isinstance(value, (list, str)) and type(key) is int and -len(value) <= key < len(value):
        return value[key]
    raise NotLiteral(node, f"a subscript [{key!r}] that the constant does not have")


def _eval_fstring_part(part: ast.AST, constants: dict[str, Any], budget: list[int]) -> str:
    if isinstance(part, ast.Constant):
        return str(part.value)
    if not isinstance(part, ast.FormattedValue):
        raise NotLiteral(part, describe(part))
    value = _eval(part.value, constants, budget)
    _refuse_path_in_text(part.value, value)
    if not isinstance(value, _SCALARS):
        raise NotLiteral(part.value, "a list or dict inside an f-string")
    spec = _eval(part.format_spec, constants, budget) if part.format_spec is not None else ""
    if _LONG_NUMBER.search(spec):
        raise NotLiteral(part, "a format width too large to evaluate")
    if part.conversion == ord("r"):
        value = repr(value)
    elif part.conversion in (ord("s"), ord("a")):
        value = str(value) if part.conversion == ord("s") else ascii(value)
    try:
        return format(value, spec)
    except (ValueError, TypeError, OverflowError) as exc:
        raise NotLiteral(part, f"a format that fails ({exc})") from None


def _is_str_format(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, (ast.Constant, ast.Name, ast.JoinedStr))
    )


def _eval_str_format(node: ast.Call, constants: dict[str, Any], budget: list[int]) -> str:
    template = _eval(node.func.value, constants, budget)
    if not isinstance(template, str):
        raise NotLiteral(node, "a .format call on something that is not a string")
    args = [_eval(a, constants, budget) for a in node.args]
    kwargs = {}
    for kw in node.keywords:
        value = _eval(kw.value, constants, budget)
        if kw.arg is None:
            if not isinstance(value, dict):
                raise NotLiteral(kw.value, "a ** expansion of something that is not a dict")
            kwargs.update(value)
        else:
            kwargs[kw.arg] = value
    # Field names like {0.__class__} or {x[0]} reach into objects: plain names and positions only.
    for _text, field, spec, _conv in string.Formatter().parse(template):
        if field is not None and not re.fullmatch(r"\w*", field):
            raise NotLiteral(node, f"a format field '{{{field}}}' that reaches into a value")
        if spec and ("{" in spec or _LONG_NUMBER.search(spec)):
            raise NotLiteral(node, "a format width too large or nested to evaluate")
    _refuse_path_in_text(node, template, *args, *kwargs.values())
    if any(not isinstance(v, _SCALARS) for v in [*args, *kwargs.values()]):
        raise NotLiteral(node, "a list or dict given to .format")
    try:
        return template.format(*args, **kwargs)
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        raise NotLiteral(node, f"a format that fails ({type(exc).__name__}: {exc})") from None


def _percent_format(node: ast.BinOp, template: str, values: Any) -> str:
    if "*" in template or _LONG_NUMBER.search(template):
        raise NotLiteral(node, "a % format with a width too large or given by *")
    if isinstance(values, list):
        values = tuple(values)
    items = values.values() if isinstance(values, dict) else values if isinstance(values, tuple) else [values]
    _refuse_path_in_text(node, template, *items)
    if any(not isinstance(v, _SCALARS) for v in items):
        raise NotLiteral(node, "a list or dict given to a % format")
    try:
        return template % values
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise NotLiteral(node, f"a % format that fails ({type(exc).__name__}: {exc})") from None


def _refuse_path_in_text(node: ast.AST, *values: Any) -> None:
    # "x" relative to the flow's folder is right only as a whole file default, never inside other text
    if any(v is FLOW_FOLDER or isinstance(v, FlowRelativePath) for v in values):
        raise NotLiteral(node, "a path beside the flow file inside text; give it whole to os.path.join")


def module_constants(body: list[ast.stmt], inherited: dict[str, Any] | None = None) -> Constants:
    """Names bound exactly once, at this level, to a statically known value."""
    # `is None`, not `or`: an inherited Constants with no values still carries its reasons and names
    base = inherited if inherited is not None else {}
    constants = Constants(base, unresolved=getattr(inherited, "unresolved", None))
    counts: dict[str, int] = {}
    values: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    # Statements run in order, so a value may use names bound above it (`QUEUE = f"{BASE}-q"`).
    visible = Constants(constants, unresolved=constants.unresolved)
    for stmt in body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in ("os", "os.path") and (alias.asname is None or alias.name == "os"):
                    visible.os_names.add(alias.asname or "os")
            continue
        if is_static_function(stmt):
            visible.functions[stmt.name] = stmt
        if isinstance(stmt, ast.ClassDef) and counts.get(stmt.name, 0) == 0:
            visible.classes[stmt.name] = module_constants(stmt.body, visible)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[stmt.name] = counts.get(stmt.name, 0) + 2  # shadows any constant
            reasons[stmt.name] = f"which is a function or class (line {stmt.lineno}), not a value"
            visible.pop(stmt.name, None)
            visible.unresolved[stmt.name] = reasons[stmt.name]
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                counts[target.id] = counts.get(target.id, 0) + 1
                try:
                    values[target.id] = visible[target.id] = evaluate(value, visible)
                except NotLiteral as exc:
                    counts[target.id] += 2
                    reasons[target.id] = visible.unresolved[target.id] = (
                        f"which is bound at line {stmt.lineno} to {exc}"
                    )
                    visible.pop(target.id, None)
    constants.os_names = visible.os_names
    # a class bound once at this level (a second binding of its name makes it unknowable)
    constants.classes = {n: c for n, c in visible.classes.items() if counts.get(n, 2) == 2}
    # a helper from an outer level, or defined here once (a second binding makes it unknowable)
    constants.functions = {n: f for n, f in visible.functions.items() if counts.get(n, 2) == 2}
    for name, count in counts.items():
        constants.unresolved.pop(name, None)  # bound here: this file's binding explains it
        if count == 1 and name in values:
            constants[name] = values[name]
        else:
            constants.pop(name, None)
            constants.unresolved[name] = reasons.get(name, "which is bound more than once, so it is not a constant")
    return constants
