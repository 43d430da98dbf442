"""A Parameter's default as the text the runtime parses from `--param NAME=TEXT`: one spelling for every target."""

from __future__ import annotations

import json

from flowc.compiler.ir import FlowGraph, Parameter


def parameter_text(param: Parameter) -> str | None:
    """The default as `--param` text; "" for an explicit None default; None when the run must supply it."""
    if not param.has_default or param.default is None:
        return None if param.required or not param.has_default else ""
    value = param.default
    if param.type == "json" or isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parameter_defaults(flow: FlowGraph) -> dict[str, str]:
    """{name: default text} for each parameter with a non-None default."""
    found = {}
    for param in flow.parameters:
        if param.has_default and param.default is not None:
            found[param.name] = parameter_text(param)
    return found
