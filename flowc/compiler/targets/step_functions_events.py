"""@trigger's parameter mapping inside the state machine: the event's payload in, `$.parameters` out.

The EventBridge rule (flowc/deploy/step_functions_events.py) passes the event's
detail whole, as `{"flowc_event": DETAIL}`; these states copy each mapped
payload field that is present into `$.parameters.<param>`, then the usual
parameter states merge the flow's defaults under them.  A field the payload
lacks leaves its parameter at its default, as on Airflow and Argo; the values
keep their JSON types.  Doing it here rather than in an input transformer keeps
the mapping in the compiled definition (a golden, run by a real ASL engine in
the tests) and off EventBridge's rules for missing paths.
"""

from __future__ import annotations

from flowc.compiler.ir import FlowGraph
from flowc.compiler.targets import asl
from flowc.contract.events import SFN_EVENT_INPUT

START = "event-given"


def mapped_fields(flow: FlowGraph) -> list[tuple[str, str]]:
    """(parameter, payload field) of the flow's one triggering event (the target allows one)."""
    return [pair for event in flow.triggers.events for pair in event.parameters]


def event_states(flow: FlowGraph, then: str) -> dict[str, dict]:
    """States from START to `then`; an input without the event goes straight to `then`."""
    pairs = mapped_fields(flow)
    names = [f"event-field-{i}" for i in range(len(pairs))] + [then]
    states: dict[str, dict] = {
        START: asl.choice_is_present(f"$.{SFN_EVENT_INPUT}", "event-parameters", then),
        "event-parameters": {"Type": "Pass", "Result": {}, "ResultPath": "$.parameters", "Next": names[0]},
    }
    for i, (parameter, field) in enumerate(pairs):
        # field is [A-Za-z_][A-Za-z0-9_]* (normalize_triggers.py), parameter [A-Za-z0-9_-]+ (step_functions.py)
        source = f"$.{SFN_EVENT_INPUT}.{field}"
        states[names[i]] = asl.choice_is_present(source, f"event-copy-{i}", names[i + 1])
        states[f"event-copy-{i}"] = {
            "Type": "Pass",
            "InputPath": source,
            "ResultPath": f"$.parameters.{parameter}",
            "Next": names[i + 1],
        }
    return states
