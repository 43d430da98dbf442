"""The runtime command every target renders, as an argv list with placeholders.

    python -m flowc.runtime step FLOW_FILE STEP --run-id RUN --task-id TASK
        --datastore ROOT --origin-run RUN[/STEP] [--param NAME=VALUE ...] [--attempt N --max-attempts M]
        [--decorator JSON ...] [--project-branch BRANCH] [--config-values B64] [--foreach-out PATH] [--branch-out PATH]
        [--iteration N [--next-iteration-out PATH]] [--package URL] [--environment SHA]

The names (module, flags) are flowc/contract/command.py's.  One function builds it for all targets so they cannot drift.  Values only the
orchestrator knows at run time (the run id, the task id inside a foreach, the
attempt number, a parameter's value) are `Placeholder`s that each emitter
renders in its own syntax (`{{workflow.name}}`, `$$.Execution.Name`,
`{{ run_id }}`).  Each argv item is a tuple of parts (literal strings and
placeholders) so that `alpha={{...}}` stays one argv item: nothing is ever
joined into a shell string.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Union

from flowc.compiler import project
from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.options import Options
from flowc.contract import command as c
from flowc.contract.ids import FIRST_TASK_ID

RUN_ID = "run_id"
TASK_ID = "task_id"  # the task id of the enclosing foreach iteration, e.g. "3" or "3.7"
ATTEMPT = "attempt"  # zero-based attempt number
ITERATION = "iteration"  # a recursive step's zero-based iteration, counted by the orchestrator's loop
# The run a remote resume reuses (contract ORIGIN_RUN_INPUT, "" for a fresh run): the orchestrator's input, read
# at run time and validated by the runtime before it names anything.
ORIGIN_RUN = "origin_run"
PARAM = "param"

# Decorators whose work happens inside the task.  When `--with` attached one,
# the runtime cannot see it on the imported function, so the command carries it.
RUNTIME_DECORATORS = ("catch", "timeout", "environment", "card")  # card: `--with card`, rendered by the runtime
WITH_FILE = "<--with>"


@dataclass(frozen=True)
class Placeholder:
    kind: str
    name: str | None = None  # the parameter's name, for PARAM


Part = Union[str, Placeholder]
ArgvItem = tuple  # tuple[Part, ...]


def flow_file_name(flow: FlowGraph) -> str:
    """The flow file as the container sees it: its base name, at the code root."""
    return posixpath.basename(flow.file.replace("\\", "/"))


def runtime_argv(
    flow: FlowGraph,
    step: Step,
    options: Options,
    foreach_out: str | None = None,
    branch_out: str | None = None,
    next_iteration_out: str | None = None,
) -> tuple[ArgvItem, ...]:
    """The argv (items of parts) that runs `step` inside a container.

    `foreach_out` and `branch_out` are where a foreach step writes its split list and a switch step the
    chosen step's name, for an orchestrator that reads them from a file; `next_iteration_out` where a
    recursive step writes its next iteration's number (for Argo, which cannot add without expressions)."""
    argv: list[ArgvItem] = [
        (options.python,),
        ("-m",),
        (c.RUNTIME_MODULE,),
        (c.STEP_COMMAND,),
        (flow_file_name(flow),),
        (step.name,),
        (c.RUN_ID_FLAG,),
        (Placeholder(RUN_ID),),
        (c.TASK_ID_FLAG,),
        (Placeholder(TASK_ID),) if step.foreach_depth else (FIRST_TASK_ID,),
        (c.DATASTORE_FLAG,),
        (options.datastore,),
        # Every task: in a resumed run each one decides for itself whether the origin run already did its work.
        (c.ORIGIN_RUN_FLAG,),
        (Placeholder(ORIGIN_RUN),),
    ]
    if step.kind is StepKind.START or step.name == "start":
        for param in flow.parameters:
            argv += [(c.PARAM_FLAG,), (f"{param.name}=", Placeholder(PARAM, param.name))]
    if step.retry is not None and step.retry.times > 0:
        argv += [(c.ATTEMPT_FLAG,), (Placeholder(ATTEMPT),), (c.MAX_ATTEMPTS_FLAG,), (str(step.retry.times + 1),)]
    for use in step.decorators:
        if use.location.file == WITH_FILE and use.name in RUNTIME_DECORATORS:
            argv += [(c.DECORATOR_FLAG,), (json.dumps({use.name: dict(use.args)}, sort_keys=True),)]
    if flow.project is not None:  # every task's `current.branch_name`; `flowc compile` checked the name
        argv += [(c.PROJECT_BRANCH_FLAG,), (project.branch(flow, options),)]
    if flow.configs:  # every task imports the flow module, whose decorators may read a config
        values = {config.name: config.value for config in flow.configs}
        argv += [(c.CONFIG_VALUES_FLAG,), (c.encode_config_values(values),)]
    if step.kind is StepKind.FOREACH and foreach_out:
        argv += [(c.FOREACH_OUT_FLAG,), (foreach_out,)]
    if step.is_switch and branch_out:
        argv += [(c.BRANCH_OUT_FLAG,), (branch_out,)]
    if step.is_recursive:
        argv += [(c.ITERATION_FLAG,), (Placeholder(ITERATION),)]
        if next_iteration_out:
            argv += [(c.NEXT_ITERATION_OUT_FLAG,), (next_iteration_out,)]
    if step.packages is not None and step.packages.lock:
        argv += [(c.ENVIRONMENT_FLAG,), (step.packages.lock,)]
    if options.package_url:
        # Only Python (and boto3) need be in the image: the fixed bootstrap fetches
        # the hash-checked code package and starts flowc.runtime from it.
        from flowc.contract.bootstrap import BOOTSTRAP_SOURCE

        argv[1:3] = [("-c",), (BOOTSTRAP_SOURCE,)]
        argv += [(c.PACKAGE_FLAG,), (options.package_url,)]
    return tuple(argv)


def render(argv: tuple[ArgvItem, ...], placeholder) -> list[str]:
    """Each item as one string, with `placeholder(p)` giving a Placeholder's text."""
    return ["".join(part if isinstance(part, str) else placeholder(part) for part in item) for item in argv]


def is_literal(item: ArgvItem) -> bool:
    return all(isinstance(part, str) for part in item)
