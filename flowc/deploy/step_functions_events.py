"""@trigger and @trigger_on_finish on Step Functions: one EventBridge rule per event or upstream, on the default bus.

- `@trigger(event=NAME)`: a rule on flowc's custom events (source `flowc`,
  detail-type NAME, what `flowc event publish` puts); its target's input
  transformer passes the event's detail whole as `{"flowc_event": DETAIL}`,
  and the state machine's first states copy the mapped fields into its
  parameters (flowc/compiler/targets/step_functions_events.py: a field the
  payload lacks leaves the parameter at its default, which an input
  transformer, whose missing paths produce no variable, could not promise).
- `@trigger_on_finish(flow=F)`: a rule on Step Functions' own "Execution
  Status Change" events, status SUCCEEDED, of the upstream state machine,
  whose ARN is this one's with the upstream's name (same account and region;
  the upstream may be deployed before or after).

The compiler refuses more than one trigger on this target (EventBridge starts
a run per matching event and cannot wait for all of several), so each flow has
at most one such rule.
"""

from __future__ import annotations

import hashlib
import json

from flowc.contract.events import EVENTBRIDGE_SOURCE, SFN_EVENT_INPUT, SFN_SOURCE, SFN_STATUS_CHANGE, SFN_SUCCEEDED

RULE_NAME_MAX = 64  # EventBridge's limit; names are [.-_A-Za-z0-9]+


def rule_name(state_machine: str, what: str) -> str:
    """`flowc-<state machine>-<what>`, cut to 64 characters with an 8-hex sha256 of the whole when too long."""
    name = f"flowc-{state_machine}-{what}"
    if len(name) <= RULE_NAME_MAX:
        return name
    return f"{name[: RULE_NAME_MAX - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def event_pattern(event: str) -> dict:
    return {"source": [EVENTBRIDGE_SOURCE], "detail-type": [event]}


def finished_pattern(upstream_arn: str) -> dict:
    return {
        "source": [SFN_SOURCE],
        "detail-type": [SFN_STATUS_CHANGE],
        "detail": {"status": [SFN_SUCCEEDED], "stateMachineArn": [upstream_arn]},
    }


def input_transformer() -> dict:
    """The target's InputTransformer: the event's detail (a JSON object, inserted as JSON) under SFN_EVENT_INPUT."""
    return {"InputPathsMap": {"detail": "$.detail"}, "InputTemplate": '{"' + SFN_EVENT_INPUT + '": <detail>}'}


def sibling_state_machine_arn(own_arn: str, name: str) -> str:
    """The ARN of state machine `name` in the account and region of `own_arn`."""
    return own_arn.rsplit(":", 1)[0] + ":" + name


def trigger_rules(flow, own_arn: str, upstream_name) -> list[tuple[str, dict, dict]]:
    """(rule name, event pattern, target's input fields) for each trigger of `flow`.

    `upstream_name(FinishTrigger) -> str` names the upstream's state machine as deploy would.
    """
    own_name = own_arn.rsplit(":", 1)[1]
    rules = []
    for event in flow.triggers.events:
        target = (
            {"InputTransformer": input_transformer()} if event.parameters else {"Input": json.dumps({"parameters": {}})}
        )
        rules.append((rule_name(own_name, f"on-{event.name}"), event_pattern(event.name), target))
    for upstream in flow.triggers.finishes:
        arn = sibling_state_machine_arn(own_arn, upstream_name(upstream))
        rules.append(
            (
                rule_name(own_name, f"after-{upstream_name(upstream)}"),
                finished_pattern(arn),
                {"Input": json.dumps({"parameters": {}})},
            )
        )
    return rules


def put_trigger_rules(aws, request, flow, own_arn: str, upstream_name) -> None:
    """Create or update each trigger rule and its one target (the state machine, run as --role-arn)."""
    for name, pattern, target_input in trigger_rules(flow, own_arn, upstream_name):
        aws.call(
            "events",
            "put_rule",
            Name=name,
            EventPattern=json.dumps(pattern, sort_keys=True),
            State="ENABLED",
            Description=f"flowc trigger of {flow.name}",
        )
        aws.call(
            "events",
            "put_targets",
            Rule=name,
            Targets=[{"Id": "flowc", "Arn": own_arn, "RoleArn": request.role_arn, **target_input}],
        )
