"""The IR of @trigger and @trigger_on_finish (re-exported by flowc/compiler/ir.py); built by normalize_triggers.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventTrigger:
    """@trigger: start the flow when the event `name` is published; each (parameter, payload field) maps a value."""

    name: str  # the event's name, checked against EVENT_NAME in normalize_triggers.py
    parameters: tuple[tuple[str, str], ...] = ()  # sorted (declared Parameter, payload field)


@dataclass(frozen=True)
class FinishTrigger:
    """@trigger_on_finish: start the flow when a run of the upstream deployment succeeds."""

    flow: str  # the upstream flow's class name
    project: str | None = None  # its @project; None when the upstream has none


@dataclass(frozen=True)
class Triggers:
    """What starts the deployed flow besides a user: events and upstream flows (at most one @trigger, one @trigger_on_finish)."""

    events: tuple[EventTrigger, ...] = ()
    finishes: tuple[FinishTrigger, ...] = ()
    location: Any = None  # the ir.Location of the first of the two decorators (ir.py imports this module)

    def __bool__(self) -> bool:
        return bool(self.events or self.finishes)
