"""Class-level `Parameter(...)` and `IncludeFile(...)` declarations, read statically into the IR."""

from __future__ import annotations

import ast
import json
from typing import Any

from flowc.compiler.ir import Parameter
from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.contract.decorators import did_you_mean

PARAMETER_ARGS = (
    "name",
    "default",
    "type",
    "required",
    "help",
    "show_default",
    "separator",
    "multiple",
    "is_flag",
    "is_text",
    "encoding",
)
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
    if "default" in values and _is_deploy_time(frontend, values["default"]):
        frontend.error(
            values["default"],
            f"{kind} '{attribute}': a deploy-time default (a function Metaflow calls when it deploys) would "
            "need flowc to run user code; write the value as a literal or a module-level constant, or a "
            "Config value (default=config.x)",
        )
        return None
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
    if name == ORIGIN_RUN_INPUT:
        frontend.error(
            values["name"],
            f"parameter name {name!r} is flowc's own: every target's run takes it as the run a resume reuses",
        )
        return None
    shape = _shape(frontend, kind, name, values, evaluated)
    if shape is None:
        return None
    type_name, default, has_default, multiple = shape
    required = bool(evaluated.get("required", False))
    if required and has_default:
        # Metaflow 2.19 (the pinned peer; its Parameter docstring and its run): "if a default is provided,
        # the required flag is ignored" -- a run without the value takes the default.
        frontend.warn(
            values["default"],
            f"parameter '{name}' has a default, so required=True has no effect (as in Metaflow: "
            "the required flag is ignored when a default is given); remove one of them",
        )
        required = False
    return Parameter(
        name=name,
        attribute=attribute,
        type=type_name,
        default=default,
        has_default=has_default,
        required=required,
        help=evaluated.get("help"),
        location=frontend.loc(call),
        multiple=multiple,
        separator=evaluated.get("separator"),
    )


def _is_deploy_time(frontend, node: ast.expr) -> bool:
    """`default=lambda ctx: ...` or a name bound to a function: Metaflow's deploy-time parameter."""
    if isinstance(node, ast.Lambda):
        return True
    reason = getattr(frontend.constants, "unresolved", {}).get(node.id, "") if isinstance(node, ast.Name) else ""
    return "which is a function" in reason


def _shape(frontend, kind: str, name: str, values: dict, evaluated: dict) -> tuple | None:
    """(type, default, has_default, multiple) as Metaflow means them, or None after reporting why not."""
    default = evaluated.get("default")
    has_default = "default" in evaluated and default is not None
    multiple = bool(evaluated.get("multiple", False))
    if evaluated.get("is_flag"):  # a click flag: a bool, False unless given
        if evaluated.get("type", "bool") != "bool" or not isinstance(default if has_default else False, bool):
            frontend.error(values.get("default") or values["is_flag"], f"parameter '{name}': is_flag=True is a bool")
            return None
        return "bool", default if has_default else False, True, False
    if kind == "IncludeFile":
        type_name = "file"
    elif multiple:
        elements = default if isinstance(default, list) else []
        type_name = evaluated.get("type") or (_type_of(elements[0]) if elements else "str")
    else:
        type_name = evaluated.get("type") or _type_of(default)
    if type_name == "json" and isinstance(default, str):  # Metaflow parses a JSONType default given as text
        try:
            default = json.loads(default)
        except ValueError as exc:
            frontend.error(values["default"], f"parameter '{name}': the JSONType default is not JSON ({exc})")
            return None
    separator = evaluated.get("separator")
    if separator is not None and (type_name != "str" or multiple or not isinstance(separator, str) or not separator):
        frontend.error(
            values["separator"],
            f"parameter '{name}': separator= splits a str parameter's text (Metaflow allows it only for string "
            "parameters); give a non-empty string, on a str parameter without multiple=True",
        )
        return None
    if multiple:
        if has_default and not isinstance(default, list):
            frontend.error(
                values["default"], f"parameter '{name}': multiple=True takes a list default, e.g. ['a', 'b']"
            )
            return None
        for item in default or []:
            problem = _default_mismatch(type_name, item)
            if problem:
                frontend.error(values["default"], f"parameter '{name}': {problem}")
                return None
        return type_name, list(default or []), True, True
    problem = _default_mismatch(type_name, default) if has_default else None
    if problem:
        frontend.error(values["default"], f"parameter '{name}': {problem}")
        return None
    return type_name, default, has_default, False


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
