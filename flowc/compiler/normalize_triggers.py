"""@trigger and @trigger_on_finish as the IR's Triggers: Metaflow's shapes read once, every value checked.

Event names, payload field names and upstream flow names reach three
orchestrators' expression languages (an Argo Events Sensor's `dataKey`, an
EventBridge pattern and input transformer's JSON paths, an Airflow Asset's
URI).  Rather than escape for each, they are held to alphabets that none of
those languages gives a meaning to beyond a name: a value outside them is a
located error, never rewritten.
"""

from __future__ import annotations

import re
from typing import Any

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import DecoratorUse, EventTrigger, FinishTrigger, Parameter, Triggers

# Dots and dashes are how event names are usually namespaced ('data.updated'); nothing else is needed.
EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# A JSON path segment in gjson (Argo Events), EventBridge ($.detail.x) and an InputTransformer variable.
PAYLOAD_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
FLOW_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
PROJECT_NAME = re.compile(r"[a-z0-9_]{1,128}")  # Metaflow's rule for @project(name=)


def normalize_triggers(
    flow_decorators: dict[str, DecoratorUse],
    parameters: tuple[Parameter, ...],
    project: str | None,
    diagnostics: list[Diagnostic],
) -> Triggers:
    """The flow's Triggers; every problem appended to `diagnostics` at its decorator's line."""
    on_event, on_finish = flow_decorators.get("trigger"), flow_decorators.get("trigger_on_finish")
    if on_event is None and on_finish is None:
        return Triggers()
    problems: list[tuple[DecoratorUse, str]] = []
    schedule = flow_decorators.get("schedule")
    for use in (on_event, on_finish):
        if use is not None and schedule is not None:
            problems.append(
                (
                    use,
                    f"@{use.name} and @schedule on one flow: a deployed flow starts on events or on a schedule, not both; remove one",
                )
            )
    events = _events(on_event, {p.name: p for p in parameters}, problems) if on_event else ()
    finishes = _finishes(on_finish, project, problems) if on_finish else ()
    diagnostics.extend(Diagnostic(use.location, message) for use, message in problems)
    first = min((u for u in (on_event, on_finish) if u), key=lambda u: (u.location.line, u.location.col))
    return Triggers(events=events, finishes=finishes, location=first.location)


def _one_or_many(use: DecoratorUse, one: str, many: str, problems) -> list:
    single, several = use.get(one), use.get(many)
    if (single is None) == (several is None):
        problems.append((use, f"@{use.name} takes one of {one}= or {many}= (not {'both' if single else 'neither'})"))
        return []
    values = [single] if single is not None else list(several)
    if not values:
        problems.append((use, f"@{use.name}({many}=[]) names nothing"))
    return values


def _events(use: DecoratorUse, parameters: dict[str, Parameter], problems) -> tuple[EventTrigger, ...]:
    found: list[EventTrigger] = []
    for value in _one_or_many(use, "event", "events", problems):
        event = _event(use, value, parameters, problems)
        if event is None:
            continue
        if any(e.name == event.name for e in found):
            problems.append((use, f"@trigger names the event {event.name!r} twice"))
            continue
        found.append(event)
    return tuple(found)


def _event(use: DecoratorUse, value: Any, parameters: dict[str, Parameter], problems) -> EventTrigger | None:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        problems.append((use, f"@trigger: an event is a name or {{'name': ..., 'parameters': ...}}, got {value!r}"))
        return None
    unknown = sorted(set(value) - {"name", "parameters"})
    if unknown:
        problems.append((use, f"@trigger: an event has keys name and parameters, not {', '.join(map(repr, unknown))}"))
        return None
    name = value.get("name")
    if not isinstance(name, str) or not EVENT_NAME.fullmatch(name):
        problems.append(
            (
                use,
                f"@trigger: event name {name!r} must be 1-128 of letters, digits and . _ - (starting with a letter or digit)",
            )
        )
        return None
    mapping = _parameter_mapping(use, name, value.get("parameters") or {}, parameters, problems)
    return None if mapping is None else EventTrigger(name, mapping)


def _parameter_mapping(use, event: str, given: Any, parameters: dict[str, Parameter], problems):
    """Metaflow's {param: field}, or a list of names and (param, field) pairs, as sorted pairs; None if bad."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(given, dict):
        pairs = list(given.items())
    elif isinstance(given, (list, tuple)):
        for item in given:
            if isinstance(item, str):
                pairs.append((item, item))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                problems.append(
                    (
                        use,
                        f"@trigger: event {event!r}: a parameter is a name or a (parameter, field) pair, got {item!r}",
                    )
                )
                return None
    else:
        problems.append((use, f"@trigger: event {event!r}: parameters must be a dict or a list, got {given!r}"))
        return None
    ok = True
    for param, field in pairs:
        if param not in parameters:
            known = ", ".join(sorted(parameters)) or "none"
            problems.append(
                (
                    use,
                    f"@trigger: event {event!r} maps to {param!r}, which is not a Parameter of the flow (it has: {known})",
                )
            )
            ok = False
        elif parameters[param].type == "file":
            problems.append(
                (
                    use,
                    f"@trigger: event {event!r} maps to the IncludeFile {param!r}: a file is read where the run is launched, not from an event",
                )
            )
            ok = False
        elif not isinstance(field, str) or not PAYLOAD_FIELD.fullmatch(field):
            problems.append(
                (
                    use,
                    f"@trigger: event {event!r}: payload field {field!r} must be a name of letters, digits and _ (not starting with a digit)",
                )
            )
            ok = False
    return tuple(sorted(pairs)) if ok else None


def _finishes(use: DecoratorUse, project: str | None, problems) -> tuple[FinishTrigger, ...]:
    found: list[FinishTrigger] = []
    for value in _one_or_many(use, "flow", "flows", problems):
        upstream = _finish(use, value, project, problems)
        if upstream is not None and upstream not in found:
            found.append(upstream)
    return tuple(found)


def _finish(use: DecoratorUse, value: Any, project: str | None, problems) -> FinishTrigger | None:
    if isinstance(value, str):
        if "." in value:
            problems.append(
                (
                    use,
                    f"@trigger_on_finish: {value!r}: flowc has no project branches; name the flow, "
                    "with {'name': 'Flow', 'project': 'p'} for another project's",
                )
            )
            return None
        value = {"name": value}
    if not isinstance(value, dict) or set(value) - {"name", "project"}:
        problems.append(
            (use, f"@trigger_on_finish: a flow is a name or {{'name': ..., 'project': ...}}, got {value!r}")
        )
        return None
    name, upstream_project = value.get("name"), value.get("project", project)
    if not isinstance(name, str) or not FLOW_NAME.fullmatch(name):
        problems.append((use, f"@trigger_on_finish: flow name {name!r} must be a Python class name"))
        return None
    if upstream_project is not None and (
        not isinstance(upstream_project, str) or not PROJECT_NAME.fullmatch(upstream_project)
    ):
        problems.append(
            (use, f"@trigger_on_finish: project {upstream_project!r} must be lowercase letters, digits and _")
        )
        return None
    return FinishTrigger(name, upstream_project)
