"""What a step's job and the state machine read at run time, as intrinsic-function expressions.

The runtime argv (`Command.$`, built with `States.Array`, one argv item per
argument, no shell) and the datastore keys the definition reads (a foreach's
split list, a switch's branch.json), each with its run-time pieces (run id,
task id, attempt, iteration, parameters) as JSONPaths into the state.
"""

from __future__ import annotations

import json
import re

from flowc.compiler import command
from flowc.compiler.ir import FlowGraph, Step
from flowc.compiler.lower.parameters import parameter_defaults
from flowc.compiler.options import Options
from flowc.compiler.targets import asl, step_functions_retry as retry_loop, step_functions_skypilot as launched
from flowc.compiler.targets.step_functions_jobs import container_environment
from flowc.compiler.targets.step_functions_switch import ITERATION_PATH
from flowc.contract import ids, layout
from flowc.contract.command import ORIGIN_RUN_INPUT

TOP_LEVEL_RUN_ID = "$$.Execution.Name"
# Inside a Distributed Map each iteration is its own child execution with its own
# name, so the run id travels in the state from the Map's ItemSelector.
MAP_RUN_ID = "$.run_id"
TASK_ID_PATH = "$.task_id"
# The run a resume reuses: the execution input's key at the top level (absent in an execution a schedule or an
# older trigger started: input_states puts "" there), carried into each Map iteration by its ItemSelector.
TOP_LEVEL_ORIGIN_RUN = f"$['{ORIGIN_RUN_INPUT}']"
MAP_ORIGIN_RUN = "$.origin_run"
_DOT_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def s3_location(datastore: str) -> tuple[str, str] | None:
    """(bucket, key prefix without slashes) of an s3:// datastore, else None."""
    if not datastore.startswith("s3://"):
        return None
    bucket, _, prefix = datastore[len("s3://") :].partition("/")
    return bucket, prefix.strip("/")


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
    if placeholder.kind == command.ITERATION:
        return ITERATION_PATH
    if placeholder.kind == command.ORIGIN_RUN:
        return MAP_ORIGIN_RUN if in_map else TOP_LEVEL_ORIGIN_RUN
    if placeholder.kind == command.PARAM:
        if _DOT_KEY.match(placeholder.name):
            return f"$.parameters.{placeholder.name}"
        return f"$.parameters['{placeholder.name}']"  # e.g. num-docs: a hyphen is not a dot-notation key
    raise ValueError(f"unknown placeholder {placeholder.kind}")


def intrinsic_item(parts: tuple, in_map: bool) -> str:
    """One argv item as an intrinsic-function argument that evaluates to a string."""
    if all(isinstance(p, str) for p in parts):
        return asl.literal("".join(parts))
    if len(parts) == 1 and parts[0].kind in (command.RUN_ID, command.TASK_ID, command.ORIGIN_RUN):
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


def branch_location(flow: FlowGraph, step: Step, options: Options, in_map: bool) -> tuple[str, str]:
    """(bucket, `Key.$` expression) of the branch.json a switch task writes (task T, or T-N for a recursion)."""
    bucket, prefix = s3_location(options.datastore) or ("", "")
    task: tuple = (command.Placeholder(command.TASK_ID),) if step.foreach_depth else ("0",)
    if step.is_recursive:
        task += (ids.ITERATION_SEPARATOR, command.Placeholder(command.ITERATION))
    parts = layout.task_key_parts(flow.name, command.Placeholder(command.RUN_ID), step.name, None, layout.BRANCH)
    parts = parts[:3] + task + parts[4:]  # the task id's place holds its pieces
    if prefix:
        parts = (f"{prefix}/",) + parts
    return bucket, intrinsic_item(parts, in_map)


def worst_case_overrides_chars(flow: FlowGraph, step: Step, options: Options) -> int:
    """ContainerOverrides size with every run-time value at its longest plausible length (a launcher's task YAML included)."""
    defaults = parameter_defaults(flow)

    def longest(p: command.Placeholder) -> str:
        if p.kind == command.RUN_ID:
            return "r" * 80  # execution names are at most 80 characters
        if p.kind == command.TASK_ID:
            return ".".join(["9999999"] * max(1, step.foreach_depth))
        if p.kind == command.ATTEMPT:
            return "99"
        if p.kind == command.ITERATION:
            return str(step.recursion_max)
        if p.kind == command.ORIGIN_RUN:  # RUN/STEP
            return "r" * ids.RUN_ID_MAX + "/" + max((s.name for s in flow.steps), key=len)
        return defaults.get(p.name, "")

    overrides = {
        "command": command.render(step_argv(flow, step, options), longest),
        "resourceRequirements": [{"type": r["Type"], "value": r["Value"]} for r in overrides_resources(step)],
        "environment": [{"name": k, "value": v} for k, v in container_environment(step)],
    }
    return len(json.dumps(overrides, separators=(",", ":")))
