"""Target `step-functions`: an Amazon States Language state machine running each step as an AWS Batch job.

Mapping (see shared/DESIGN.md):
- step            -> Task `batch:submitJob.sync`; the runtime argv is `Command.$` built with
                     `States.Array`, resources and environment in `ContainerOverrides`.
- split / join    -> the split's Task, then a Parallel state (one branch per successor), then the join.
- foreach / join  -> the foreach step's Task, then a Distributed Map whose ItemReader reads the
                     split list the runtime wrote to `ROOT/<Flow>/runs/<run>/<step>/<task>/foreach.json`;
                     each item is the child's task id; `ItemSelector` carries run id and task id.
- Parameter       -> execution input `{"parameters": {...}}`, defaults merged in by Pass states.
- @retry          -> Retry on States.TaskFailed (BackoffRate 1 so the delay is honoured);
                     anything left after the last retry -> a Fail state naming the step.

State carried between states is tiny: `{"parameters": ...}` at the top level and
`{"run_id", "task_id"}` inside a Map iteration.  Every Task discards its result
(`ResultPath: null`), so the Batch job description never enters the state.

Job queue and job definition: `Options.job_queue` (else the `${JobQueue}` token,
which `flowc deploy` replaces with `--job-queue`) and `Options.job_definition`
(else `job_definition_name(flow, image)`, the name deploy registers per image).
"""

from __future__ import annotations

import hashlib
import json
import re

from flowc.compiler import command
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.options import Options
from flowc.compiler.targets import asl

SUFFIX = ".step_functions.json"
JOB_QUEUE_TOKEN = "${JobQueue}"
BATCH_OVERRIDES_LIMIT_CHARS = 8192
DEFINITION_LIMIT_BYTES = 1024 * 1024
TOP_LEVEL_RUN_ID = "$$.Execution.Name"
# Inside a Distributed Map each iteration is its own child execution with its own
# name, so the run id travels in the state from the Map's ItemSelector.
MAP_RUN_ID = "$.run_id"
TASK_ID_PATH = "$.task_id"
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def emit(flow: FlowGraph, options: Options) -> str:
    """The state machine definition as JSON (indent 2, stable key order)."""
    return json.dumps(definition(flow, options), indent=2, ensure_ascii=False) + "\n"


def definition(flow: FlowGraph, options: Options) -> dict:
    """The state machine definition as a dict."""
    machine = _Machine(flow, options)
    body = machine.chain("start", stop=None, in_map=False, last_output_empty=False)
    states = machine.parameter_states(body["StartAt"]) | body["States"] if flow.parameters else body["States"]
    start_at = "parameters-given" if flow.parameters else body["StartAt"]
    return {"Comment": f"{flow.name}, compiled by flowc", "StartAt": start_at, "States": states}


def state_machine_name(flow: FlowGraph, options: Options) -> str:
    return asl.safe_name(options.name or flow.name)


def job_definition_name(flow: FlowGraph, options: Options, image: str) -> str:
    """The Batch job definition a step on `image` uses, registered by deploy.

    Its content depends only on the image, so flows on the same image share it.
    """
    if options.job_definition:
        return options.job_definition
    return "flowc-" + hashlib.sha256(image.encode("utf-8")).hexdigest()[:8]


def step_images(flow: FlowGraph, options: Options) -> list[str]:
    """Every image a step runs on, sorted."""
    return sorted({step.image or options.image for step in flow.steps})


def s3_location(datastore: str) -> tuple[str, str] | None:
    """(bucket, key prefix without slashes) of an s3:// datastore, else None."""
    if not datastore.startswith("s3://"):
        return None
    bucket, _, prefix = datastore[len("s3://"):].partition("/")
    return bucket, prefix.strip("/")


def parameter_defaults(flow: FlowGraph) -> dict[str, str]:
    """Each parameter's default as the text `--param NAME=TEXT` carries (what the runtime parses)."""
    defaults = {}
    for param in flow.parameters:
        if not param.has_default or param.default is None:
            continue
        if param.type == "json" or isinstance(param.default, (dict, list)):
            defaults[param.name] = json.dumps(param.default, sort_keys=True)
        elif isinstance(param.default, bool):
            defaults[param.name] = "true" if param.default else "false"
        else:
            defaults[param.name] = str(param.default)
    return defaults


class _Machine:
    """Builds nested state lists; one instance per emit."""

    def __init__(self, flow: FlowGraph, options: Options):
        self.flow = flow
        self.options = options

    def chain(self, first: str, stop: str | None, in_map: bool, last_output_empty: bool) -> dict:
        """States from step `first` up to (not including) step `stop`: {"StartAt", "States"}."""
        states: dict[str, dict] = {}
        name: str | None = first
        while name is not None and name != stop:
            step = self.flow.step(name)
            if step.kind in (StepKind.SPLIT, StepKind.FOREACH):
                after: str | None = step.matching_join
                combinator = _state_name(step.name, "-split" if step.kind is StepKind.SPLIT else "-foreach")
                states[_state_name(step.name)] = self.task(step, combinator, in_map, output_empty=False)
                states.update(self.fail_state(step))
                is_last = after == stop
                then = None if is_last else _state_name(after)
                empty = last_output_empty and is_last
                if step.kind is StepKind.SPLIT:
                    branches = [self.chain(child, after, in_map, False) for child in step.next]
                    states[combinator] = asl.parallel(branches, next_state=then, output_empty=empty)
                else:
                    states[combinator] = self.foreach_map(step, in_map, then, empty)
            else:
                after = step.next[0] if step.kind is not StepKind.END and step.next else None
                is_last = after is None or after == stop
                then = None if is_last else _state_name(after)
                states[_state_name(step.name)] = self.task(step, then, in_map, output_empty=last_output_empty and is_last)
                states.update(self.fail_state(step))
            name = after
        return {"StartAt": _state_name(first), "States": states}

    def task(self, step: Step, then: str | None, in_map: bool, output_empty: bool) -> dict:
        retry = None
        if step.retry is not None and step.retry.times > 0:
            retry = asl.retry_on_task_failed(step.retry.times, step.retry.delay_seconds)
        return asl.batch_task(self.batch_parameters(step, in_map), next_state=then, retry=retry,
                              catch=asl.catch_all(_state_name(step.name, "-failed")),
                              timeout_seconds=step.timeout_seconds, output_empty=output_empty)

    def fail_state(self, step: Step) -> dict[str, dict]:
        attempts = step.retry.times + 1 if step.retry is not None and step.retry.times > 0 else 1
        cause = f"{step.name} failed after {attempts} attempt{'s' if attempts > 1 else ''}"
        return {_state_name(step.name, "-failed"): asl.fail("StepFailed", cause)}

    def batch_parameters(self, step: Step, in_map: bool) -> dict:
        image = step.image or self.options.image
        overrides: dict = {"Command.$": command_expression(self.flow, step, self.options, in_map),
                           "ResourceRequirements": resource_requirements(step)}
        if step.environment:
            overrides["Environment"] = [{"Name": k, "Value": v} for k, v in step.environment]
        return {"JobName": asl.safe_name(step.name, 128),
                "JobQueue": step.compute.get("queue") or self.options.job_queue or JOB_QUEUE_TOKEN,
                "JobDefinition": job_definition_name(self.flow, self.options, image),
                "ContainerOverrides": overrides}

    def foreach_map(self, step: Step, in_map: bool, then: str | None, output_empty: bool) -> dict:
        bucket, key = foreach_list_location(self.flow, step, self.options, in_map)
        body = self.chain(step.next[0], step.matching_join, True, last_output_empty=True)
        selector = {"run_id.$": MAP_RUN_ID if in_map else TOP_LEVEL_RUN_ID, "task_id.$": "$$.Map.Item.Value"}
        return asl.distributed_map(body, bucket=bucket, key_expression=key, item_selector=selector,
                                   max_concurrency=self.options.max_workers, next_state=then, output_empty=output_empty)

    def parameter_states(self, first_step_state: str) -> dict[str, dict]:
        """Execution input -> `{"parameters": defaults merged with the given ones}`."""
        return {
            "parameters-given": asl.choice_is_present("$.parameters", "parameters-merge", "parameters-none-given"),
            "parameters-none-given": {"Type": "Pass", "Result": {}, "ResultPath": "$.parameters",
                                      "Next": "parameters-merge"},
            "parameters-merge": asl.pass_state({"defaults": parameter_defaults(self.flow), "given.$": "$.parameters"},
                                               "parameters-apply"),
            "parameters-apply": asl.pass_state({"parameters.$": "States.JsonMerge($.defaults, $.given, false)"},
                                               first_step_state),
        }


def _state_name(step_name: str, suffix: str = "") -> str:
    return asl.safe_name(step_name + suffix)


def resource_requirements(step: Step) -> list[dict]:
    cpu = step.resources.cpu
    requirements = [{"Type": "VCPU", "Value": str(int(cpu)) if float(cpu).is_integer() else str(cpu)},
                    {"Type": "MEMORY", "Value": str(step.resources.memory_mib)}]
    if step.resources.gpu:
        requirements.append({"Type": "GPU", "Value": str(step.resources.gpu)})
    return requirements


def _placeholder_path(placeholder: command.Placeholder, in_map: bool) -> str:
    if placeholder.kind == command.RUN_ID:
        return MAP_RUN_ID if in_map else TOP_LEVEL_RUN_ID
    if placeholder.kind == command.TASK_ID:
        return TASK_ID_PATH
    if placeholder.kind == command.ATTEMPT:
        return "$$.State.RetryCount"
    if placeholder.kind == command.PARAM:
        return f"$.parameters.{placeholder.name}"
    raise ValueError(f"unknown placeholder {placeholder.kind}")


def intrinsic_item(parts: tuple, in_map: bool) -> str:
    """One argv item as an intrinsic-function argument that evaluates to a string."""
    if all(isinstance(p, str) for p in parts):
        return asl.literal("".join(parts))
    if len(parts) == 1 and parts[0].kind in (command.RUN_ID, command.TASK_ID):
        return _placeholder_path(parts[0], in_map)
    template = "".join(asl.literal(p)[1:-1] if isinstance(p, str) else "{}" for p in parts)
    paths = ", ".join(_placeholder_path(p, in_map) for p in parts if not isinstance(p, str))
    return f"States.Format('{template}', {paths})"


def command_expression(flow: FlowGraph, step: Step, options: Options, in_map: bool) -> str:
    """`States.Array(...)` evaluating to the runtime argv: one argv item per argument, no shell."""
    argv = command.runtime_argv(flow, step, options)
    return "States.Array(" + ", ".join(intrinsic_item(item, in_map) for item in argv) + ")"


def foreach_list_location(flow: FlowGraph, step: Step, options: Options, in_map: bool) -> tuple[str, str]:
    """(bucket, `Key.$` expression) of the split list a foreach step writes."""
    bucket, prefix = s3_location(options.datastore) or ("", "")
    head = f"{prefix}/{flow.name}/runs/" if prefix else f"{flow.name}/runs/"
    task = (command.Placeholder(command.TASK_ID),) if step.foreach_depth else ("0",)
    parts = (head, command.Placeholder(command.RUN_ID), f"/{step.name}/", *task, "/foreach.json")
    return bucket, intrinsic_item(parts, in_map)


def _worst_case_overrides_chars(flow: FlowGraph, step: Step, options: Options) -> int:
    """ContainerOverrides size with every run-time value at its longest plausible length."""
    defaults = parameter_defaults(flow)

    def longest(p: command.Placeholder) -> str:
        if p.kind == command.RUN_ID:
            return "r" * 80  # execution names are at most 80 characters
        if p.kind == command.TASK_ID:
            return ".".join(["9999999"] * max(1, step.foreach_depth))
        if p.kind == command.ATTEMPT:
            return "99"
        return defaults.get(p.name, "")

    overrides = {"command": command.render(command.runtime_argv(flow, step, options), longest),
                 "resourceRequirements": [{"type": r["Type"], "value": r["Value"]} for r in resource_requirements(step)],
                 "environment": [{"name": k, "value": v} for k, v in step.environment]}
    return len(json.dumps(overrides, separators=(",", ":")))


def unsupported(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    """What this target cannot express for `flow`, each located."""
    problems = []
    for param in flow.parameters:
        if not _PARAMETER_NAME.match(param.name):
            problems.append(Diagnostic(param.location, f"step-functions: parameter name {param.name!r} must be letters, "
                                       "digits and underscores (it is a JSONPath key in the execution input)"))
    has_foreach = any(s.kind is StepKind.FOREACH for s in flow.steps)
    if has_foreach and s3_location(options.datastore) is None:
        first = next(s for s in flow.steps if s.kind is StepKind.FOREACH)
        problems.append(Diagnostic(first.next_location or first.location,
                                   f"step-functions: foreach needs an s3://bucket/prefix datastore (the Distributed Map "
                                   f"reads the split list from S3), got {options.datastore!r}; pass --datastore s3://..."))
    for step in flow.steps:
        chars = _worst_case_overrides_chars(flow, step, options)
        if chars > BATCH_OVERRIDES_LIMIT_CHARS:
            problems.append(Diagnostic(step.location, f"step-functions: step {step.name}'s ContainerOverrides can reach "
                                       f"{chars:,} characters, over AWS Batch's {BATCH_OVERRIDES_LIMIT_CHARS:,} limit; "
                                       "shorten its environment values, parameter defaults or the datastore path"))
    if not problems:
        size = len(json.dumps(definition(flow, options), separators=(",", ":")).encode("utf-8"))
        if size > DEFINITION_LIMIT_BYTES:
            problems.append(Diagnostic(flow.location, f"step-functions: the state machine definition is {size:,} bytes, "
                                       f"over Step Functions' {DEFINITION_LIMIT_BYTES:,}-byte limit; split the flow "
                                       "into smaller flows or move repeated steps into a foreach"))
    return problems
