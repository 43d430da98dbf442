"""The runtime argv in an Argo container: placeholders as Argo's own parameters, literals escaped for the kubelet.

The head every step shares (`python -m flowc.runtime step FLOW_FILE`) goes once into
templateDefaults; each step's template carries the rest as its args.
"""

from __future__ import annotations

from flowc.compiler.command import ATTEMPT, ITERATION, ORIGIN_RUN, PARAM, RUN_ID, TASK_ID, Placeholder, runtime_argv
from flowc.contract.command import ORIGIN_RUN_FLAG, ORIGIN_RUN_INPUT
from flowc.compiler.ir import FlowGraph, Step
from flowc.compiler.lower import kubernetes as k8s
from flowc.compiler.options import Options
from flowc.compiler.targets import argo_branches as branches

FOREACH_OUT = "/tmp/flowc-foreach.json"
TASK_ID_INPUT = "task-id"
COMMAND_LENGTH = 5  # python -m flowc.runtime step FLOW_FILE: shared in templateDefaults
ORIGIN_ARGS = [ORIGIN_RUN_FLAG, "{{workflow.parameters.%s}}" % ORIGIN_RUN_INPUT]  # shared there too


def argo_placeholder(p: Placeholder) -> str:
    if p.kind == RUN_ID:
        return "{{workflow.name}}"
    if p.kind == TASK_ID:
        return "{{inputs.parameters.%s}}" % TASK_ID_INPUT
    if p.kind == ATTEMPT:
        return "{{retries}}"
    if p.kind == PARAM:
        return "{{workflow.parameters.%s}}" % p.name
    if p.kind == ITERATION:
        return "{{inputs.parameters.%s}}" % branches.ITERATION_INPUT
    if p.kind == ORIGIN_RUN:
        return "{{workflow.parameters.%s}}" % ORIGIN_RUN_INPUT
    raise ValueError(f"unknown placeholder {p.kind}")


def container_argv(argv: tuple) -> list[str]:
    """Each argv item as one string: Argo's placeholders for run-time values, literal parts escaped for the kubelet.

    The kubelet expands `$(VAR)` and `$$` in a container's command and args, so a
    literal (a flow file name, a datastore URL, decorator JSON) is escaped to arrive
    byte for byte.  What Argo substitutes at run time (`-p` values) cannot be
    escaped without Argo expressions: docs/argo.md says so.
    """
    rendered = []
    for item in argv:
        text = []
        for i, part in enumerate(item):
            if isinstance(part, str):
                runtime_value_follows = i + 1 < len(item) and not isinstance(item[i + 1], str)
                text.append(k8s.kubelet_literal(part, runtime_value_follows))
            else:
                text.append(argo_placeholder(part))
        rendered.append("".join(text))
    return rendered


def full_argv(flow: FlowGraph, step: Step, options: Options) -> list[str]:
    return container_argv(
        runtime_argv(
            flow,
            step,
            options,
            foreach_out=FOREACH_OUT,
            branch_out=branches.BRANCH_OUT,
            next_iteration_out=branches.NEXT_ITERATION_OUT,
        )
    )


def shared_command(flow: FlowGraph, options: Options) -> list[str]:
    """`python -m flowc.runtime step FLOW_FILE --origin-run {{workflow.parameters.flowc-origin-run}}`: the argv
    head every step shares.  The origin is the same for every task of a workflow, so it sits here once rather
    than in each of thousands of templates (Argo's size limits count every byte); the runtime's parser takes
    the flag before STEP as well as after it."""
    head, origin = _without_origin(full_argv(flow, flow.steps[0], options))
    return head[:COMMAND_LENGTH] + origin


def step_args(flow: FlowGraph, step: Step, options: Options) -> list[str]:
    argv, _ = _without_origin(full_argv(flow, step, options))
    assert argv[:COMMAND_LENGTH] + ORIGIN_ARGS == shared_command(flow, options), "the runtime argv head changed shape"
    return argv[COMMAND_LENGTH:]


def _without_origin(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the argv without `--origin-run VALUE`, that pair)."""
    at = argv.index(ORIGIN_RUN_FLAG)
    return argv[:at] + argv[at + 2 :], argv[at : at + 2]
