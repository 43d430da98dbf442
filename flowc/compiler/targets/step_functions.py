"""Target `step-functions`: an Amazon States Language state machine running each step as an AWS Batch job.

Mapping (see shared/DESIGN.md):
- step            -> Task `batch:submitJob.sync`; the runtime argv is `Command.$` built with
                     `States.Array`, resources and environment in `ContainerOverrides`.
- split / join    -> the split's Task, then a Parallel state (one branch per successor), then the join.
- foreach / join  -> the foreach step's Task, then a Distributed Map whose ItemReader reads the
                     split list the runtime wrote to `ROOT/<Flow>/runs/<run>/<step>/<task>/foreach.json`;
                     each item is the child's task id; `ItemSelector` carries run id and task id.
- Parameter       -> execution input `{"parameters": {...}}`, defaults merged in by Pass states.
- @retry          -> a loop of states around the Task (step_functions_retry.py): a failed job is
                     retried after the @retry delay unless its exit code is one no retry can change
                     (usage, corrupt blob); anything left after the last retry -> a Fail state naming the step.
- @skypilot step  -> a Task whose job runs flowc's SkyPilot launcher on `Options.skypilot_image`
                     (step_functions_skypilot.py); a managed job has no retry loop, SkyPilot restarts it.

State carried between states is tiny: `{"parameters": ...}` at the top level and
`{"run_id", "task_id"}` inside a Map iteration.  Every Task discards its result
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

from flowc.compiler import command
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.lower.parameters import parameter_defaults
from flowc.compiler.options import Options
from flowc.compiler.targets import asl, step_functions_retry as retry_loop, step_functions_skypilot as launched
from flowc.compiler.targets.step_functions_jobs import (  # the job definitions, which deploy registers
    container_environment,
    container_properties,
    job_definition_name,
    job_definitions,  # noqa: F401 - part of this target's interface: deploy registers them
)
from flowc.contract import layout

SUFFIX = ".step_functions.json"
JOB_QUEUE_TOKEN = "${JobQueue}"
BATCH_OVERRIDES_LIMIT_CHARS = 8192
DEFINITION_LIMIT_BYTES = 1024 * 1024
TOP_LEVEL_RUN_ID = "$$.Execution.Name"
# Inside a Distributed Map each iteration is its own child execution with its own
# name, so the run id travels in the state from the Map's ItemSelector.
MAP_RUN_ID = "$.run_id"
TASK_ID_PATH = "$.task_id"
# A parameter is read as `$.parameters['NAME']` (bracket notation, so `num-docs` works); a quote, bracket,
# backslash or non-ASCII letter could end or confuse that key, so names stay within these characters.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_DOT_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")  # AWS Secrets Manager's rule for names


def lower(flow: FlowGraph, options: Options) -> dict:
    return definition(flow, options)


def check(flow: FlowGraph, document: dict, options: Options) -> list[Diagnostic]:
    """Step Functions' size limit, measured on the definition as deploy sends it (compact JSON)."""
    size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size <= DEFINITION_LIMIT_BYTES:
        return []
    return [
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
    states = machine.parameter_states(body["StartAt"]) | body["States"] if flow.parameters else body["States"]
    start_at = "parameters-given" if flow.parameters else body["StartAt"]
    return {"Comment": f"{flow.name}, compiled by flowc", "StartAt": start_at, "States": states}


def state_machine_name(flow: FlowGraph, options: Options) -> str:
    """`--name`, else `[project-]Flow`: @project keeps two projects' deployments of one flow apart."""
    return asl.safe_name(options.name or (f"{flow.project}-{flow.name}" if flow.project else flow.name))


def s3_location(datastore: str) -> tuple[str, str] | None:
    """(bucket, key prefix without slashes) of an s3:// datastore, else None."""
    if not datastore.startswith("s3://"):
        return None
    bucket, _, prefix = datastore[len("s3://") :].partition("/")
    return bucket, prefix.strip("/")


class _Machine:
    """Builds nested state lists; one instance per definition."""

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
                states.update(self.task_states(step, combinator, in_map, output_empty=False))
                is_last = after == stop
                then = None if is_last else self.entry(after)
                empty = last_output_empty and is_last
                if step.kind is StepKind.SPLIT:
                    branches = [self.chain(child, after, in_map, False) for child in step.next]
                    states[combinator] = asl.parallel(branches, next_state=then, output_empty=empty)
                else:
                    states[combinator] = self.foreach_map(step, in_map, then, empty)
            else:
                after = step.next[0] if step.kind is not StepKind.END and step.next else None
                is_last = after is None or after == stop
                then = None if is_last else self.entry(after)
                states.update(self.task_states(step, then, in_map, output_empty=last_output_empty and is_last))
            name = after
        return {"StartAt": self.entry(first), "States": states}

    def entry(self, step_name: str) -> str:
        """The state a step begins with: its Task, or the Pass that starts its retry loop."""
        step = self.flow.step(step_name)
        return retry_loop.first_attempt_name(step) if retry_loop.has_retry_loop(step) else _state_name(step_name)

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
        selector = {"run_id.$": MAP_RUN_ID if in_map else TOP_LEVEL_RUN_ID, "task_id.$": "$$.Map.Item.Value"}
        return asl.distributed_map(
            body,
            bucket=bucket,
            key_expression=key,
            item_selector=selector,
            max_concurrency=self.options.max_workers,
            next_state=then,
            output_empty=output_empty,
        )

    def parameter_states(self, first_step_state: str) -> dict[str, dict]:
        """Execution input -> `{"parameters": defaults merged with the given ones}`."""
        return {
            "parameters-given": asl.choice_is_present("$.parameters", "parameters-merge", "parameters-none-given"),
            "parameters-none-given": {
                "Type": "Pass",
                "Result": {},
                "ResultPath": "$.parameters",
                "Next": "parameters-merge",
            },
            "parameters-merge": asl.pass_state(
                {"defaults": parameter_defaults(self.flow), "given.$": "$.parameters"}, "parameters-apply"
            ),
            "parameters-apply": asl.pass_state(
                {"parameters.$": "States.JsonMerge($.defaults, $.given, false)"}, first_step_state
            ),
        }


def _state_name(step_name: str, suffix: str = "") -> str:
    return asl.safe_name(step_name + suffix)


def overrides_resources(step: Step) -> list[dict]:
    """The job's ResourceRequirements: the step's own, or the launcher's small ones (the step's are on its VM)."""
    return launched.LAUNCHER_RESOURCES if launched.is_launched(step) else resource_requirements(step)


def resource_requirements(step: Step) -> list[dict]:
    cpu = step.resources.cpu
    requirements = [
        {"Type": "VCPU", "Value": str(int(cpu)) if float(cpu).is_integer() else str(cpu)},
        {"Type": "MEMORY", "Value": str(step.resources.memory_mib)},
    ]
    if step.resources.gpu:
        requirements.append({"Type": "GPU", "Value": str(step.resources.gpu)})
    return requirements


def _placeholder_path(placeholder: command.Placeholder, in_map: bool) -> str:
    if placeholder.kind == command.RUN_ID:
        return MAP_RUN_ID if in_map else TOP_LEVEL_RUN_ID
    if placeholder.kind == command.TASK_ID:
        return TASK_ID_PATH
    if placeholder.kind == command.ATTEMPT:
        return retry_loop.ATTEMPT_PATH
    if placeholder.kind == command.PARAM:
        if _DOT_KEY.match(placeholder.name):
            return f"$.parameters.{placeholder.name}"
        return f"$.parameters['{placeholder.name}']"  # e.g. num-docs: a hyphen is not a dot-notation key
    raise ValueError(f"unknown placeholder {placeholder.kind}")


def intrinsic_item(parts: tuple, in_map: bool) -> str:
    """One argv item as an intrinsic-function argument that evaluates to a string."""
    if all(isinstance(p, str) for p in parts):
        return asl.literal("".join(parts))
    if len(parts) == 1 and parts[0].kind in (command.RUN_ID, command.TASK_ID):
        return _placeholder_path(parts[0], in_map)
    return asl.format_call(
        [(asl.TEXT, p) if isinstance(p, str) else (asl.EXPRESSION, _placeholder_path(p, in_map)) for p in parts]
    )


def step_argv(flow: FlowGraph, step: Step, options: Options) -> tuple:
    """The argv items a step's job runs: the runtime's, or for a @skypilot step the launcher's."""
    return (
        launched.argv(flow, step, options) if launched.is_launched(step) else command.runtime_argv(flow, step, options)
    )


def command_expression(flow: FlowGraph, step: Step, options: Options, in_map: bool) -> str:
    """`States.Array(...)` evaluating to the step's argv: one argv item per argument, no shell."""
    argv = step_argv(flow, step, options)
    return "States.Array(" + ", ".join(intrinsic_item(item, in_map) for item in argv) + ")"


def foreach_list_location(flow: FlowGraph, step: Step, options: Options, in_map: bool) -> tuple[str, str]:
    """(bucket, `Key.$` expression) of the split list a foreach step writes."""
    bucket, prefix = s3_location(options.datastore) or ("", "")
    task = command.Placeholder(command.TASK_ID) if step.foreach_depth else "0"
    parts = layout.task_key_parts(flow.name, command.Placeholder(command.RUN_ID), step.name, task, layout.FOREACH)
    if prefix:
        parts = (f"{prefix}/",) + parts
    return bucket, intrinsic_item(parts, in_map)


def _worst_case_overrides_chars(flow: FlowGraph, step: Step, options: Options) -> int:
    """ContainerOverrides size with every run-time value at its longest plausible length (a launcher's task YAML included)."""
    defaults = parameter_defaults(flow)

    def longest(p: command.Placeholder) -> str:
        if p.kind == command.RUN_ID:
            return "r" * 80  # execution names are at most 80 characters
        if p.kind == command.TASK_ID:
            return ".".join(["9999999"] * max(1, step.foreach_depth))
        if p.kind == command.ATTEMPT:
            return "99"
        return defaults.get(p.name, "")

    overrides = {
        "command": command.render(step_argv(flow, step, options), longest),
        "resourceRequirements": [{"type": r["Type"], "value": r["Value"]} for r in overrides_resources(step)],
        "environment": [{"name": k, "value": v} for k, v in container_environment(step)],
    }
    return len(json.dumps(overrides, separators=(",", ":")))


def unsupported(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    """What this target cannot express for `flow`, each located."""
    problems = launched.problems(flow, options)
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
    for step in flow.steps:
        chars = _worst_case_overrides_chars(flow, step, options)
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
