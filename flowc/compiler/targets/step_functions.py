"""Target `step-functions`: an Amazon States Language state machine running each step as an AWS Batch job.

Mapping (see shared/DESIGN.md):
- step            -> Task `batch:submitJob.sync`; the runtime argv is `Command.$` built with
                     `States.Array`, resources and environment in `ContainerOverrides`.
- split / join    -> the split's Task, then a Parallel state (one branch per successor), then the join.
- foreach / join  -> the foreach step's Task, then a Distributed Map whose ItemReader reads the
                     split list the runtime wrote to `ROOT/<Flow>/runs/<run>/<step>/<task>/foreach.json`;
                     each item is the child's task id; `ItemSelector` carries run id and task id.
- conditional     -> the switch's Task, an S3 read of its branch.json, a Choice on the chosen step; a
                     recursive step loops with its iteration counter in the state (step_functions_switch.py).
- Parameter       -> execution input `{"parameters": {...}}`, defaults merged in by Pass states.
- remote resume   -> execution input key ORIGIN_RUN_INPUT ("RUN" or "RUN/STEP"), "" when absent (input_states),
                     passed to every task as --origin-run and into each Map iteration as `origin_run`.
- @retry          -> a loop of states around the Task (step_functions_retry.py): a failed job is
                     retried after the @retry delay unless its exit code is one no retry can change
                     (usage, corrupt blob); anything left after the last retry -> a Fail state naming the step.
- @skypilot step  -> a Task whose job runs flowc's SkyPilot launcher on `Options.skypilot_image`
                     (step_functions_skypilot.py); a managed job has no retry loop, SkyPilot restarts it.

State carried between states is tiny: `{"parameters": ..., "flowc-origin-run": ...}` at the top level and
`{"run_id", "task_id", "origin_run"}` inside a Map iteration.  Every Task discards its result
(`ResultPath: null`), so the Batch job description never enters the state.

Job queue: `@batch(queue=)`, else `Options.job_queue`, else the `${JobQueue}`
token, which `flowc deploy` replaces with `--job-queue`.

Job definitions: Batch holds some settings only in the job definition (roles,
`linuxParameters` for shared memory, tmpfs and swap), so each distinct set of
container properties is its own job definition, named by a hash of its content
(`job_definitions`), and each Task names its own.  A step with nothing but an
image keeps the name `flowc-<sha256(image)[:8]>` it always had.  Tags are a
SubmitJob parameter (`Tags` + `PropagateTags`), so they stay in the Task.
`Options.job_definition` names one job definition for every step instead.

@secrets: the environment variable SECRET_SOURCES_ENV lists the AWS Secrets
Manager secrets; the runtime reads each at task start and sets each key of its
JSON object as an environment variable: the meaning Argo gives a Kubernetes
Secret in `envFrom`.  Values never enter the definition.
"""

from __future__ import annotations

import json
import re

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler import project
from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.lower.parameters import parameter_defaults
from flowc.compiler.options import Options
from flowc.compiler.targets import step_functions_events
from flowc.compiler.targets import asl, step_functions_retry as retry_loop, step_functions_skypilot as launched
from flowc.compiler.targets import step_functions_history as history, step_functions_switch as switch
from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.compiler.targets.step_functions_jobs import (  # the job definitions, which deploy registers
    container_environment,
    container_properties,
    job_definition_name,
    job_definitions,  # noqa: F401 - part of this target's interface: deploy registers them
)
from flowc.compiler.targets.step_functions_argv import (  # s3_location: deploy reads it from here
    MAP_ORIGIN_RUN,
    MAP_RUN_ID,
    TOP_LEVEL_ORIGIN_RUN,
    TOP_LEVEL_RUN_ID,
    branch_location,
    command_expression,
    foreach_list_location,
    overrides_resources,
    s3_location,
    worst_case_overrides_chars,
)

SUFFIX = ".step_functions.json"
JOB_QUEUE_TOKEN = "${JobQueue}"
BATCH_OVERRIDES_LIMIT_CHARS = 8192
DEFINITION_LIMIT_BYTES = 1024 * 1024
# A parameter is read as `$.parameters['NAME']` (bracket notation, so `num-docs` works); a quote, bracket,
# backslash or non-ASCII letter could end or confuse that key, so names stay within these characters.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
INPUT_DEFAULTS, INPUT_MERGED = "input-defaults", "input-merged"  # the first two states (input_states)
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")  # AWS Secrets Manager's rule for names


def lower(flow: FlowGraph, options: Options) -> dict:
    return definition(flow, options)


def check(flow: FlowGraph, document: dict, options: Options) -> list[Diagnostic]:
    """Step Functions' limits: the definition's size as deploy sends it (compact JSON), and the history's events."""
    problems = history.history_problems(flow)
    size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size <= DEFINITION_LIMIT_BYTES:
        return problems
    return problems + [
        Diagnostic(
            flow.location,
            f"step-functions: the state machine definition is {size:,} bytes, over Step "
            f"Functions' {DEFINITION_LIMIT_BYTES:,}-byte limit; split the flow into smaller "
            "flows or move repeated steps into a foreach",
        )
    ]


def render(document: dict, options: Options) -> str:
    """The definition as JSON (indent 2, stable key order)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def definition(flow: FlowGraph, options: Options) -> dict:
    """The state machine definition as a dict."""
    machine = _Machine(flow, options)
    body = machine.chain("start", stop=None, in_map=False, last_output_empty=False)
    first = "parameters-merge" if flow.parameters else body["StartAt"]
    states = machine.input_states(first)
    if flow.parameters:
        states |= machine.parameter_states(body["StartAt"])
    start_at = INPUT_DEFAULTS
    if step_functions_events.mapped_fields(flow):  # @trigger maps payload fields to parameters, first
        states = step_functions_events.event_states(flow, start_at) | states
        start_at = step_functions_events.START
    return {"Comment": f"{flow.name}, compiled by flowc", "StartAt": start_at, "States": states | body["States"]}


def state_machine_name(flow: FlowGraph, options: Options) -> str:
    """`--name`, else the flow's name; with @project `project-branch-Flow` (Metaflow's `project.branch.Flow`
    with `-` for `.`, which Batch names, made from the same name, do not take)."""
    return asl.safe_name(options.name or project.deployed_name(flow, options).replace(".", "-"))


class _Machine:
    """Builds nested state lists; one instance per definition."""

    def __init__(self, flow: FlowGraph, options: Options):
        self.flow = flow
        self.options = options

    def chain(
        self, first: str, stop: str | None, in_map: bool, last_output_empty: bool, after: str | None = None
    ) -> dict:
        """States from step `first` up to (not including) step `stop`: {"StartAt", "States"}.

        The last state goes on to the state `after` (a conditional's branch, to where the branches meet),
        or ends the chain when it is None."""
        states: dict[str, dict] = {}
        name: str | None = first
        while name is not None and name != stop:
            step = self.flow.step(name)
            following = step.matching_join if step.kind in (StepKind.SPLIT, StepKind.FOREACH) else None
            if step.is_switch:
                following = step.meeting
            elif following is None:
                following = step.next[0] if step.kind is not StepKind.END and step.next else None
            is_last = following is None or following == stop
            then = after if is_last else self.entry(following)
            empty = last_output_empty and is_last and then is None
            if step.kind in (StepKind.SPLIT, StepKind.FOREACH):
                combinator = _state_name(step.name, "-split" if step.kind is StepKind.SPLIT else "-foreach")
                states.update(self.task_states(step, combinator, in_map, output_empty=False))
                if step.kind is StepKind.SPLIT:
                    branches = [self.chain(child, following, in_map, False) for child in step.next]
                    states[combinator] = asl.parallel(branches, next_state=then, output_empty=empty)
                else:
                    states[combinator] = self.foreach_map(step, in_map, then, empty)
            elif step.is_switch:
                states.update(self.switch_states(step, then, in_map, empty))
            else:
                states.update(self.task_states(step, then, in_map, output_empty=empty))
            name = following
        return {"StartAt": self.entry(first), "States": states}

    def entry(self, step_name: str) -> str:
        """The state a step begins with: a recursion's counter, the Pass that starts its retry loop, or its Task."""
        step = self.flow.step(step_name)
        return switch.entry_name(step) if step.is_recursive else self.iteration_entry(step)

    def iteration_entry(self, step: Step) -> str:
        """Where one run of the step begins (each iteration of a recursive step begins here)."""
        return retry_loop.first_attempt_name(step) if retry_loop.has_retry_loop(step) else _state_name(step.name)

    def switch_states(self, step: Step, then: str | None, in_map: bool, output_empty: bool) -> dict[str, dict]:
        """A conditional or recursive step: its Task, the read of its choice, a Choice, and each branch's chain."""
        if not switch.needs_choice(step):  # every value names one step: the Task goes straight on
            return self.task_states(step, then, in_map, output_empty=output_empty)
        loop_entry = self.iteration_entry(step)
        states = switch.first_iteration(step, loop_entry) if step.is_recursive else {}
        states.update(self.task_states(step, switch.name(step, switch.READ_BRANCH), in_map, output_empty=False))
        exit_state = then
        if exit_state is None:  # the branches meet where this chain ends: a Choice cannot end it, a Succeed can
            exit_state = switch.name(step, switch.DONE)
        targets, branch_states = {}, {}
        for branch in step.branches:
            if branch == step.meeting:
                targets[branch] = exit_state
                continue
            chained = self.chain(branch, step.meeting, in_map, output_empty, after=then)
            targets[branch] = chained["StartAt"]
            branch_states.update(chained["States"])
        bucket, key = branch_location(self.flow, step, self.options, in_map)
        states.update(
            switch.read_and_choose(step, bucket=bucket, key_expression=key, targets=targets, iteration_entry=loop_entry)
        )
        if then is None and exit_state in targets.values():
            states.update(switch.done_state(step, output_empty))
        return states | branch_states

    def task_states(self, step: Step, then: str | None, in_map: bool, output_empty: bool) -> dict[str, dict]:
        """The step's Task, its retry loop if it has one, and its Fail state."""
        name, failed = _state_name(step.name), _state_name(step.name, "-failed")
        looped = retry_loop.has_retry_loop(step)
        task = asl.batch_task(
            self.batch_parameters(step, in_map),
            next_state=then,
            catch=retry_loop.task_catch(step, failed) if looped else asl.catch_all(failed),
            timeout_seconds=step.timeout_seconds,
            output_empty=output_empty,
        )
        states = {name: task}
        if looped:
            states = {retry_loop.first_attempt_name(step): {}} | states  # the entry first, for a readable order
            states.update(retry_loop.loop_states(step, name, failed))
        states.update(self.fail_state(step))
        return states

    def fail_state(self, step: Step) -> dict[str, dict]:
        attempts = step.retry.times + 1 if step.retry is not None and step.retry.times > 0 else 1
        cause = f"{step.name} failed after {attempts} attempt{'s' if attempts > 1 else ''}"
        if launched.retried_by_skypilot(step):
            cause += " (restarted by SkyPilot, see the launcher's log)"
        return {_state_name(step.name, "-failed"): asl.fail("StepFailed", cause)}

    def batch_parameters(self, step: Step, in_map: bool) -> dict:
        overrides: dict = {
            "Command.$": command_expression(self.flow, step, self.options, in_map),
            "ResourceRequirements": overrides_resources(step),
        }
        environment = container_environment(step)
        if environment:
            overrides["Environment"] = [{"Name": k, "Value": v} for k, v in environment]
        batch = step.compute.batch
        parameters = {
            "JobName": asl.safe_name(step.name, 128),
            "JobQueue": (batch.queue if batch else None) or self.options.job_queue or JOB_QUEUE_TOKEN,
            "JobDefinition": job_definition_name(container_properties(step, self.options), self.options),
            "ContainerOverrides": overrides,
        }
        if batch is not None and batch.tags:
            parameters["Tags"] = dict(batch.tags)
            parameters["PropagateTags"] = True
        return parameters

    def foreach_map(self, step: Step, in_map: bool, then: str | None, output_empty: bool) -> dict:
        bucket, key = foreach_list_location(self.flow, step, self.options, in_map)
        body = self.chain(step.next[0], step.matching_join, True, last_output_empty=True)
        selector = {
            "run_id.$": MAP_RUN_ID if in_map else TOP_LEVEL_RUN_ID,
            "task_id.$": "$$.Map.Item.Value",
            "origin_run.$": MAP_ORIGIN_RUN if in_map else TOP_LEVEL_ORIGIN_RUN,
        }
        return asl.distributed_map(
            body,
            bucket=bucket,
            key_expression=key,
            item_selector=selector,
            max_concurrency=self.options.max_workers,
            next_state=then,
            output_empty=output_empty,
        )

    def input_states(self, then: str) -> dict[str, dict]:
        """Execution input -> the input with `{"parameters": {}, ORIGIN_RUN_INPUT: ""}` for what it lacks.

        An execution a schedule, an EventBridge rule or an older `flowc trigger` starts has neither key: a
        fresh run with the flow's defaults.  (A shallow merge: given parameters replace `{}` whole, and
        parameter_states merges them with the flow's defaults.)"""
        defaults = {"parameters": {}, ORIGIN_RUN_INPUT: ""}
        return {
            INPUT_DEFAULTS: asl.pass_state({"defaults": defaults, "given.$": "$"}, INPUT_MERGED),
            INPUT_MERGED: asl.pass_state({"input.$": "States.JsonMerge($.defaults, $.given, false)"}, then)
            | {"OutputPath": "$.input"},
        }

    def parameter_states(self, first_step_state: str) -> dict[str, dict]:
        """`{"parameters": given}` -> `{"parameters": the flow's defaults merged with the given ones}`."""
        return {
            "parameters-merge": asl.pass_state(
                {
                    "defaults": parameter_defaults(self.flow),
                    "given.$": "$.parameters",
                    "origin_run.$": TOP_LEVEL_ORIGIN_RUN,
                },
                "parameters-apply",
            ),
            "parameters-apply": asl.pass_state(
                {
                    "parameters.$": "States.JsonMerge($.defaults, $.given, false)",
                    f"{ORIGIN_RUN_INPUT}.$": "$.origin_run",
                },
                first_step_state,
            ),
        }


def _state_name(step_name: str, suffix: str = "") -> str:
    return asl.safe_name(step_name + suffix)


def unsupported(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    """What this target cannot express for `flow`, each located."""
    problems = launched.problems(flow, options)
    if len(flow.triggers.events) + len(flow.triggers.finishes) > 1:
        problems.append(
            Diagnostic(
                flow.triggers.location,
                "step-functions: a flow triggered by several events or flows runs once all of them have happened "
                "(as on argo and airflow); EventBridge starts a run per event and cannot wait for all: trigger on one",
            )
        )
    for param in flow.parameters:
        if not _PARAMETER_NAME.match(param.name):
            problems.append(
                Diagnostic(
                    param.location,
                    f"step-functions: parameter name {param.name!r} must be ASCII letters, "
                    "digits, _ and - (it is a JSONPath key in the execution input)",
                )
            )
    for step in flow.steps:
        for source in step.secrets:
            if not _SECRET_NAME.match(source):
                problems.append(
                    Diagnostic(
                        step.location_of("secrets"),
                        f"step-functions: @secrets source {source!r} "
                        "is not an AWS Secrets Manager name (1-512 of A-Z a-z 0-9 / _ + = . @ -)",
                    )
                )
    if (
        options.job_definition
        and len({json.dumps(container_properties(s, options), sort_keys=True) for s in flow.steps}) > 1
    ):
        # Point at a step with settings of its own (roles, linuxParameters), else at one with another image.
        plain = {"image", "resourceRequirements", "command"}
        own = [s for s in flow.steps if set(container_properties(s, options)) != plain]
        first_image = container_properties(flow.steps[0], options)["image"]
        step = (
            own[0] if own else next(s for s in flow.steps if container_properties(s, options)["image"] != first_image)
        )
        problems.append(
            Diagnostic(
                step.location_of("batch", "resources", "kubernetes"),
                f"step-functions: --job-definition names one job definition for every step, but step "
                f"'{step.name}' needs job-definition properties of its own (image, roles, shared "
                "memory, tmpfs or swap); drop --job-definition to let flowc register one per "
                "property set",
            )
        )
    has_foreach = any(s.kind is StepKind.FOREACH for s in flow.steps)
    if has_foreach and s3_location(options.datastore) is None:
        first = next(s for s in flow.steps if s.kind is StepKind.FOREACH)
        problems.append(
            Diagnostic(
                first.next_location or first.location,
                f"step-functions: foreach needs an s3://bucket/prefix datastore (the Distributed Map "
                f"reads the split list from S3), got {options.datastore!r}; pass --datastore s3://...",
            )
        )
    reading = [s for s in flow.steps if switch.needs_choice(s)] if s3_location(options.datastore) is None else []
    if reading:
        problems.append(
            Diagnostic(
                reading[0].next_location or reading[0].location,
                f"step-functions: a conditional or recursive step needs an s3://bucket/prefix datastore (the "
                f"state machine reads the task's branch.json from S3), got {options.datastore!r}; pass "
                "--datastore s3://...",
            )
        )
    for step in flow.steps:
        chars = worst_case_overrides_chars(flow, step, options)
        if chars > BATCH_OVERRIDES_LIMIT_CHARS:
            what = (
                "its SkyPilot task (its environment values, above all)"
                if launched.is_launched(step)
                else "its environment values"
            )
            problems.append(
                Diagnostic(
                    step.location,
                    f"step-functions: step {step.name}'s ContainerOverrides can reach "
                    f"{chars:,} characters, over AWS Batch's {BATCH_OVERRIDES_LIMIT_CHARS:,} limit; "
                    f"shorten {what}, parameter defaults or the datastore path",
                )
            )

    return problems
