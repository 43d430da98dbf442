"""The plain form of `self.next(...)`: finding the calls in a step, and reading `self.next(self.a, self.b)` or
`self.next(self.body, foreach="items")` (the conditional form: switch_call.py)."""

from __future__ import annotations

import ast
import re
from collections import deque

from flowc.contract.decorators import did_you_mean


def read_plain_next(frontend, final: ast.Call, step, methods: set[str]) -> None:
    """Fill `step.next`, `step.next_location` and `step.foreach_var` from a plain self.next, reporting each problem."""
    targets = []
    for arg in final.args:
        if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
            targets.append(arg.attr)
        else:
            frontend.error(arg, f"self.next(...) takes steps as self.<step>, not {ast.unparse(arg)}")
    step.next = tuple(targets)
    step.next_location = frontend.loc(final)
    if not final.args:
        frontend.error(final, "self.next(...) names no step")
    for kw in final.keywords:
        if kw.arg == "foreach":
            step.foreach_var = ast.unparse(kw.value)  # replaced below when valid; keeps the shape
            if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)):
                frontend.error(kw.value, "foreach= must be a string naming an attribute, e.g. foreach='items'")
            elif not kw.value.value.isidentifier():
                frontend.error(kw.value, f"foreach='{kw.value.value}' is not an attribute name")
            elif kw.value.value in methods:
                frontend.error(kw.value, f"foreach='{kw.value.value}' names a method; it must name a list attribute")
            else:
                step.foreach_var = kw.value.value
            if len(final.args) != 1:
                frontend.error(final, "a foreach names exactly one step: self.next(self.body, foreach='items')")
        elif kw.arg == "num_parallel":
            frontend.error(kw, "self.next(..., num_parallel=...) needs @parallel, which flowc does not support")
        else:
            frontend.error(
                kw,
                f"self.next(...) has no argument '{kw.arg}'" + did_you_mean(kw.arg or "", ["foreach", "condition"]),
            )


def next_calls(lines: list[str], node: ast.AST) -> list[ast.Call]:
    """`[n for n in ast.walk(node) if is_next_call(n)]`, in the same order, without walking statements
    whose source lines cannot hold a `self.next(...)` call (no `next` in them, ASCII only)."""
    found = []
    todo = deque([node])
    while todo:
        current = todo.popleft()
        if is_next_call(current):
            found.append(current)
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.stmt):
                first, last = getattr(child, "lineno", None), getattr(child, "end_lineno", None)
                if first is not None and last is not None:
                    text = "".join(lines[first - 1 : last])
                    if "next" not in text and text.isascii():
                        continue  # no call named `next` can be in this statement
            todo.append(child)
    return found


LINE_BREAK = re.compile(r"\r\n|\r|\n")  # how the parser counts lines (not str.splitlines)


def is_next_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "next"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    )
