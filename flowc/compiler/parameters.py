"""Class-level `Parameter(...)` and `IncludeFile(...)` declarations, read statically into the IR."""

from __future__ import annotations

import ast
from typing import Any

from flowc.compiler.ir import Parameter
from flowc.contract.decorators import did_you_mean

PARAMETER_ARGS = ("name", "default", "type", "required", "help", "show_default", "separator", "is_text", "encoding")
TYPE_NAMES = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "JSONType": "json",
    "dict": "json",
    "list": "json",
}
MISSING = object()  # what Frontend.literal returns for an argument it reported


def read_parameter(frontend, target: ast.expr, call: ast.Call) -> Parameter | None:
    """The IR Parameter for `attr = Parameter(...)` / `IncludeFile(...)`, or None after reporting why not."""
    kind = frontend.names.resolve(call.func)
    attribute = target.id if isinstance(target, ast.Name) else ast.unparse(target)
    values: dict[str, Any] = {}
    for i, arg in enumerate(call.args):
        key = ("name", "default")[i] if i < 2 else None
        if key is None:
            frontend.error(arg, f"{kind}(...) takes the name, then keyword arguments")
            return None
        values[key] = arg
    for kw in call.keywords:
        if kw.arg not in PARAMETER_ARGS:
            frontend.error(kw, f"{kind}(...) has no argument '{kw.arg}'" + did_you_mean(kw.arg or "", PARAMETER_ARGS))
            return None
        values[kw.arg] = kw.value
    if "name" not in values:
        frontend.error(call, f"{kind}(...) needs a name: {kind}('{attribute}', ...)")
        return None
    evaluated = {}
    for key, node in values.items():
        if key == "type":
            type_name = ast.unparse(node).split(".")[-1]
            if type_name not in TYPE_NAMES:
                frontend.error(
                    node, f"Parameter type must be str, int, float, bool or JSONType, not {ast.unparse(node)}"
                )
                return None
            evaluated["type"] = TYPE_NAMES[type_name]
            continue
        value = frontend.literal(
            node, f"argument '{key}' of {kind}", file_default=kind == "IncludeFile" and key == "default"
        )
        if value is MISSING:
            return None
        evaluated[key] = value
    name = evaluated["name"]
    if not isinstance(name, str) or not name.replace("-", "_").isidentifier():
        frontend.error(values["name"], f"parameter name {name!r} must be a string of letters, digits, _ or -")
        return None
    has_default = "default" in evaluated and evaluated["default"] is not None
    default = evaluated.get("default")
    type_name = "file" if kind == "IncludeFile" else evaluated.get("type") or _type_of(default)
    problem = _default_mismatch(type_name, default) if has_default else None
    if problem:
        frontend.error(values["default"], f"parameter '{name}': {problem}")
        return None
    return Parameter(
        name=name,
        attribute=attribute,
        type=type_name,
        default=default,
        has_default=has_default,
        required=bool(evaluated.get("required", False)),
        help=evaluated.get("help"),
        location=frontend.loc(call),
    )


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (dict, list)):
        return "json"
    return "str"


def _default_mismatch(type_name: str, default: Any) -> str | None:
    ok = {
        "str": isinstance(default, str),
        "file": isinstance(default, str),
        "int": isinstance(default, int) and not isinstance(default, bool),
        "float": isinstance(default, (int, float)) and not isinstance(default, bool),
        "bool": isinstance(default, bool),
        "json": True,
    }[type_name]
    return None if ok else f"default {default!r} is not of type {type_name}"
