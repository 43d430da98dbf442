"""Start and inspect runs of a deployed Step Functions state machine (boto3; AWS settings from the environment).

trigger(request, params, origin_run=None) -> run id
  StartExecution with `name` = the run id flowc chooses: the definition's tasks
  take their run id from `$$.Execution.Name`, so the printed id is the folder
  the datastore uses and what `flowc show/logs/status` accept.  The input is
  `{"parameters": {NAME: TEXT}}` (the text the runtime parses), plus
  `{ORIGIN_RUN_INPUT: RUN}` beside it for a remote resume.

status(request, run_id) -> RunView
  DescribeExecution (status, error, cause) and GetExecutionHistory: each Task
  state (named by its step) with what happened to it last, so a Batch job
  submitted but never started (queue stuck) shows as SUBMITTED, and the state
  that failed carries its cause.
"""

from __future__ import annotations

import json
from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.deploy import DeployError, DeployRequest
from flowc.deploy.run_parameters import load_run_flow, new_run_id, prepare_run
from flowc.deploy.run_view import NodeView, RunView
from flowc.deploy.step_functions import _Aws, _state_machine_arn

EXECUTION_NAME_MAX = 80  # StartExecution's limit on `name`

# History event type -> the state a Task reaches with it (the last one wins).
TASK_EVENTS = {
    "TaskScheduled": "SCHEDULED",
    "TaskSubmitted": "SUBMITTED",  # the Batch job exists; RUNNABLE in a queue until it starts
    "TaskStarted": "STARTED",
    "TaskSucceeded": "SUCCEEDED",
    "TaskFailed": "FAILED",
    "TaskTimedOut": "TIMED_OUT",
    "TaskStartFailed": "FAILED",
    "TaskSubmitFailed": "FAILED",
}


def trigger(request: DeployRequest, params: dict[str, str], origin_run: str | None = None) -> str:
    """Start an execution named by a new run id; returns the run id."""
    flow, checked = prepare_run(request, params)
    # the state machine's name, as deploy named it
    from flowc.compiler.targets import step_functions as target

    name = target.state_machine_name(flow, request.options)
    run_id = new_run_id(name, EXECUTION_NAME_MAX)
    execution_input = {"parameters": checked.texts}
    if origin_run is not None:
        execution_input[ORIGIN_RUN_INPUT] = origin_run
    text = json.dumps(execution_input, sort_keys=True)
    aws = _Aws(request)
    if request.dry_run:
        aws.call("stepfunctions", "start_execution", stateMachineArn=f"<arn of {name}>", name=run_id, input=text)
        return run_id
    arn = _state_machine_arn(aws, name)
    if arn is None:
        raise DeployError(f"no state machine named {name}; run flowc deploy --target step-functions first")
    aws.call("stepfunctions", "start_execution", stateMachineArn=arn, name=run_id, input=text)
    return run_id


def status(request: DeployRequest, run_id: str) -> RunView:
    """The execution's status and each Task state's last event; DeployError when it cannot be read."""
    # the state machine's name, as deploy named it
    from flowc.compiler.targets import step_functions as target

    name = target.state_machine_name(load_run_flow(request), request.options)
    aws = _Aws(request)
    machine = _state_machine_arn(aws, name)
    if machine is None:
        raise DeployError(f"no state machine named {name}: is the flow deployed (--name)?")
    arn = machine.replace(":stateMachine:", ":execution:", 1) + ":" + run_id
    execution = aws.call("stepfunctions", "describe_execution", executionArn=arn)
    events = []
    token = None
    while True:
        page = aws.call(
            "stepfunctions", "get_execution_history", executionArn=arn, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    cause = " ".join(p for p in (execution.get("error"), execution.get("cause")) if p) or None
    return RunView("step-functions", arn, execution["status"], cause, task_states(events))


def task_states(events: list[dict]) -> tuple[NodeView, ...]:
    """Each Task state with the last thing that happened to it (a retried step: its last attempt).

    A Distributed Map runs its iterations as child executions, whose events are not in this history:
    the steps inside a foreach show only through the datastore.
    """
    state_of: dict[int, str] = {}  # event id -> the state it belongs to
    reached: dict[str, tuple[str, str | None]] = {}
    for event in sorted(events, key=lambda e: e["id"]):
        entered = event.get("stateEnteredEventDetails")
        if entered:
            state_of[event["id"]] = entered["name"]
            if event["type"] == "TaskStateEntered":
                reached.setdefault(entered["name"], ("ENTERED", None))
            continue
        name = state_of.get(event.get("previousEventId"))
        if name is None:
            continue
        state_of[event["id"]] = name
        if event["type"] in TASK_EVENTS and name in reached:
            word = TASK_EVENTS[event["type"]]
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            why = " ".join(str(details[k]) for k in ("error", "cause") if details.get(k)) or None
            reached[name] = (word, why[:500] if why else None)
    return tuple(NodeView(name, name, word, why) for name, (word, why) in reached.items())
