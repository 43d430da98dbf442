"""The flow's Parameters as the runtime sees them: found on the class, converted from --param text."""

from __future__ import annotations

import os

from flowc.api.flowspec import Parameter
from flowc.runtime.logs import parameter_error


def flow_parameters(flow_class) -> list:
    """The Parameter objects of the class and its bases (a subclass's attribute wins)."""
    found = {}
    for klass in reversed(flow_class.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Parameter):
                found[name] = value
    return list(found.values())


def convert_parameters(flow_class, raw: dict) -> dict:
    """{attribute: typed value} for the start step; ValueError (usage) on a bad or missing value."""
    known = {p.name: p for p in flow_parameters(flow_class)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(known)) or 'none'})")
    values = {}
    for name, parameter in known.items():
        text = raw.get(name, "")
        if text == "":
            if parameter.required:
                raise ValueError(f"parameter '{name}' is required")
            values[parameter.attribute] = parameter.default
            continue
        try:
            value = parameter.convert(text)
        except (ValueError, TypeError) as exc:
            raise ValueError(parameter_error(name, parameter, text, exc)) from None
        if getattr(parameter, "is_text", None) is not None and os.path.isfile(value):
            with open(value, encoding=parameter.encoding) as f:  # IncludeFile: the file's text
                value = f.read()
        values[parameter.attribute] = value
    return values
