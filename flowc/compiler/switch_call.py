"""The conditional form of `self.next`: `self.next({"a": self.x, "b": self.y}, condition="route")`.

Only the branch named by the artifact `route` (read after the step's body)
runs.  Keys are the values the artifact may take: string literals, or names
the frontend resolves statically; values are steps written `self.<step>`.  A
map naming the step itself makes it recursive (it repeats until the condition
names another step).  Semantics and run-time contract: docs/conditionals.md.
"""

from __future__ import annotations

import ast

from flowc.compiler import literals

CONDITION = "condition"


def is_switch_call(call: ast.Call) -> bool:
    """`self.next({...}, ...)` or `self.next(..., condition=...)`: read by `read_switch`, not as a plain next."""
    return any(kw.arg == CONDITION for kw in call.keywords) or any(isinstance(a, ast.Dict) for a in call.args)


def read_switch(frontend, call: ast.Call, step) -> None:
    """Fill `step.condition`, `step.switch` and `step.next` from a conditional self.next, reporting each problem."""
    step.next_location = frontend.loc(call)
    mapping = call.args[0] if len(call.args) == 1 and isinstance(call.args[0], ast.Dict) else None
    if mapping is None:
        frontend.error(
            call,
            "a conditional self.next takes one dict of value -> step and condition=: "
            "self.next({'a': self.x, 'b': self.y}, condition='route')",
        )
    condition = None
    for kw in call.keywords:
        if kw.arg != CONDITION:
            frontend.error(kw, f"a conditional self.next takes only condition=, not {kw.arg or '**'}=")
        elif not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)):
            frontend.error(
                kw.value, f"condition= must be a string literal naming an artifact, not {ast.unparse(kw.value)}"
            )
        elif not kw.value.value.isidentifier():
            frontend.error(kw.value, f"condition='{kw.value.value}' is not an attribute name")
        else:
            condition = kw.value.value
    if condition is None and not any(kw.arg == CONDITION for kw in call.keywords):
        frontend.error(call, "a conditional self.next({...}) needs condition='artifact' naming the value to branch on")
    if mapping is None:
        return
    pairs = []
    for key, value in zip(mapping.keys, mapping.values):
        if key is None:
            frontend.error(value, "a conditional's map cannot be unpacked with **; write each value -> step")
            continue
        try:
            resolved = literals.evaluate(key, frontend.constants)
        except literals.NotLiteral:
            resolved = None
        if not isinstance(resolved, str):
            frontend.error(
                key,
                f"a conditional's value must be a string literal (or a constant naming one), not {ast.unparse(key)}",
            )
            continue
        if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self"):
            frontend.error(value, f"a conditional maps each value to a step as self.<step>, not {ast.unparse(value)}")
            continue
        if any(resolved == seen for seen, _ in pairs):
            frontend.error(key, f"the conditional's value {resolved!r} appears twice")
            continue
        pairs.append((resolved, value.attr))
    if not mapping.keys:
        frontend.error(mapping, "a conditional's map names no step")
    step.condition = condition
    step.switch = tuple(pairs)
    step.next = tuple(dict.fromkeys(target for _, target in pairs))
