"""The flow's Parameters as the runtime sees them: found on the class, converted from --param text."""

from __future__ import annotations

import re
from typing import Callable

from flowc.api.flowspec import Parameter
from flowc.contract.command import INCLUDED_FILE_PREFIX
from flowc.runtime.logs import parameter_error


def flow_parameters(flow_class) -> list:
    """The Parameter objects of the class and its bases (a subclass's attribute wins).

    Not the Configs: their values come with the command (flowc/api/configs.py), never from --param.
    """
    found = {}
    for klass in reversed(flow_class.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Parameter) and not getattr(value, "IS_CONFIG_PARAMETER", False):
                found[name] = value
    return list(found.values())


def convert_parameters(flow_class, raw: dict, load_included: Callable[[str], object]) -> dict:
    """{attribute: typed value} for the start step; ValueError (usage) on a bad or missing value.

    An IncludeFile's value is the file as the launcher read it (`flowc-include:<sha256>`, loaded with
    `load_included`); a path is refused, so no run parameter can make a task read a file of its machine.
    """
    known = {p.name: p for p in flow_parameters(flow_class)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(known)) or 'none'})")
    values = {}
    for name, parameter in known.items():
        text = raw.get(name, "")
        if getattr(parameter, "is_text", None) is not None:  # IncludeFile
            values[parameter.attribute] = _included(name, parameter, text, load_included)
            continue
        if text == "":
            if parameter.required:
                raise ValueError(f"parameter '{name}' is required")
            values[parameter.attribute] = parameter.resolved_default()
            continue
        try:
            value = parameter.convert(text)
        except (ValueError, TypeError) as exc:
            raise ValueError(parameter_error(name, parameter, text, exc)) from None
        values[parameter.attribute] = value
    return values


_INCLUDED = re.compile(re.escape(INCLUDED_FILE_PREFIX) + r"([0-9a-f]{64})")


def _included(name: str, parameter, text: str, load_included: Callable[[str], object]):
    match = _INCLUDED.fullmatch(text)
    if match:
        data = load_included(match.group(1))  # the file's bytes, as the launcher read them
        try:
            return data.decode(parameter.encoding) if parameter.is_text else data
        except (UnicodeDecodeError, LookupError) as exc:
            raise ValueError(
                f"IncludeFile '{name}': the included file is not {parameter.encoding} text ({exc})"
            ) from None
    if text == "" and parameter.default is None:
        if parameter.required:
            raise ValueError(f"parameter '{name}' is required")
        return None
    raise ValueError(
        f"IncludeFile '{name}' takes a file included when the run is launched (flowc run, flowc "
        f"trigger read it and store it); got {text or repr(parameter.default) + ' (its default)'}, "
        "and a task never opens a path it is given"
    )
