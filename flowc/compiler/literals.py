"""Evaluate decorator and Parameter arguments statically.

An argument is a literal, a name bound to a literal at module or class level
(`MEM = 16000` then `@resources(memory=MEM)`), or arithmetic on those
(`memory=16 * 1024`).  Anything else is not knowable without running user
code, so it is an error that says what was found.
"""

from __future__ import annotations

import ast
import operator
from typing import Any


class NotLiteral(Exception):
    def __init__(self, node: ast.AST, what: str):
        self.node = node
        super().__init__(what)


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
    return _eval(node, constants, budget)


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
        raise NotLiteral(node, f"the name '{node.id}', which is not a module-level constant")
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, constants, budget) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                raise NotLiteral(v, "a ** expansion")
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
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left = _eval(node.left, constants, budget)
        right = _eval(node.right, constants, budget)
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


def module_constants(body: list[ast.stmt], inherited: dict[str, Any] | None = None) -> dict[str, Any]:
    """Names bound exactly once, at this level, to a statically known value."""
    constants = dict(inherited or {})
    counts: dict[str, int] = {}
    values: dict[str, Any] = {}
    for stmt in body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[stmt.name] = counts.get(stmt.name, 0) + 2  # shadows any constant
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                counts[target.id] = counts.get(target.id, 0) + 1
                try:
                    values[target.id] = evaluate(value, constants)
                except NotLiteral:
                    counts[target.id] += 2
    for name, count in counts.items():
        if count == 1 and name in values:
            constants[name] = values[name]
        else:
            constants.pop(name, None)
    return constants
