"""What Argo cannot express, as located errors.

`CHECKS`, each `(flow, options) -> Iterable[Diagnostic]`, run on the IR
before anything is built; all run, all are reported.  `check_documents`
measures the built manifests (etcd's size limit) and runs on the one build
that is then printed.  Kubernetes' own value rules are normalize's
(flowc/compiler/normalize_compute.py); what only Argo refuses is here.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any, Iterable, Iterator

from flowc.compiler.command import flow_file_name
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import DecoratorUse, FlowGraph
from flowc.compiler.lower import kubernetes as k8s
from flowc.compiler.lower.parameters import parameter_text
from flowc.compiler.lower.skypilot import step_problems
from flowc.compiler.options import Options
from flowc.compiler.targets import argo_names as names

ETCD_LIMIT_BYTES = 1536 * 1024  # etcd's default request size limit (1.5 MiB)
MAX_WORKFLOW_SIZE_BYTES = 1024 * 1024  # Argo controller's default MAX_WORKFLOW_SIZE for a run's Workflow object
# A node's status once Argo compresses the node list (it does when a Workflow grows past MAX_WORKFLOW_SIZE):
# 36-39 bytes measured with argo_sim --size-only on linear flows and foreach.py; real statuses (timestamps,
# host names) compress a little worse, hence the round number.
NODE_STATUS_BYTES = 40
# Argo's controller refuses a template nested deeper than this (controller.go maxAllowedStackDepth; its check in
# operator.go executeTemplate is `depth >= 100`).  Iteration N of a recursive step nests main, its foreach bodies,
# N+1 loop templates and the step's container: foreach depth + N + 3.
MAX_STACK_DEPTH = 100
SIZE_BUDGET_NOTE = "a small flow fits ~3,800 plain steps, or a foreach of ~8,500 items (docs/argo.md)"
NO_ESCAPE = "Argo would replace the '{{...}}' in it with a workflow variable, and has no escape for it"


def check_namespaces(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """One WorkflowTemplate lives in one namespace; its pods run there."""
    declared = k8s.step_namespaces(flow)
    wanted = options.namespace or (sorted(set(declared.values()))[0] if declared else None)
    for step_name, namespace in declared.items():
        if namespace != wanted:
            yield Diagnostic(
                flow.step(step_name).location_of("kubernetes"),
                f"step '{step_name}' asks for namespace '{namespace}', but an Argo workflow runs all its "
                f"pods in one namespace ('{wanted}'); use the same namespace for every step",
            )


def check_pod_values(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """Secret names and options a pod cannot take (shared with Airflow)."""
    return k8s.problems(flow, options)


def check_argo_expressions(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """Argo substitutes `{{...}}` in every string of a template: no user value that reaches the document may hold it.

    Every decorator argument (each normalized IR value comes from one), at its
    decorator; parameters at theirs; the flow file and options at the flow.
    """
    for use in flow.decorators + tuple(d for step in flow.steps for d in step.decorators):
        for label, text in _decorator_strings(use):
            if names.has_argo_expression(text):
                yield Diagnostic(use.location, f"{label}: {NO_ESCAPE}")
    for param in flow.parameters:
        text = parameter_text(param)
        if text is not None and names.has_argo_expression(text):
            yield Diagnostic(param.location, f"parameter '{param.name}': the default {text!r}: {NO_ESCAPE}")
    flow_values = [("the flow file name", flow_file_name(flow))]
    flow_values += [
        (f"--{flag.replace('_', '-')}", getattr(options, flag))
        for flag in ("datastore", "image", "skypilot_image", "namespace", "service_account", "package_url", "python")
    ]
    for label, value in flow_values:
        if isinstance(value, str) and names.has_argo_expression(value):
            yield Diagnostic(flow.location, f"{label} {value!r}: {NO_ESCAPE}")


def _decorator_strings(use: DecoratorUse) -> Iterator[tuple[str, str]]:
    """(what it is, text) for every string inside the decorator's arguments, keys included."""
    for arg, value in use.args:
        if use.name == "environment" and arg == "vars" and isinstance(value, dict):
            for key, item in value.items():
                for text in _strings(key) + _strings(item):
                    yield f"environment variable {key}", text
            continue
        for text in _strings(value):
            yield f"@{use.name}({arg}=...) value {text!r}", text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple, set)):
        return [t for v in value for t in _strings(v)]
    if is_dataclass(value):
        return [t for f in fields(value) for t in _strings(getattr(value, f.name))]
    return []


def check_parameters(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    for param in flow.parameters:
        if not names.is_parameter_name(param.name):
            yield Diagnostic(
                param.location,
                f"parameter name {param.name!r}: Argo parameter names may hold only letters, digits, '-' and '_'",
            )
        if param.name == names.PACKAGE_PARAMETER and any(s.compute.backend == "skypilot" for s in flow.steps):
            yield Diagnostic(
                param.location,
                f"parameter name '{param.name}' is flowc's own on Argo when a step runs "
                "on SkyPilot (the code package's URL); rename it",
            )
        text = parameter_text(param)
        if text is not None and k8s.kubelet_may_rewrite(text):
            # Argo substitutes the argument into the container's args, where the kubelet expands $(VAR) and $$.
            yield Diagnostic(
                param.location,
                f"parameter '{param.name}': the kubelet would rewrite '$$' and '$(' in "
                "its default, so the workflow argument is empty and the runtime reads "
                "the default from the flow file; a value given with `argo submit -p` "
                "must not hold them (Argo cannot escape it)",
                severity="warning",
            )


def check_step_names(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    seen: dict[str, str] = {}
    for step in flow.steps:
        for k8s_name in (
            [names.step_name(step.name)]
            + ([names.body_template_name(step.name)] if step.foreach_var or step.kind.value == "foreach" else [])
            + ([names.loop_template_name(step.name)] if step.is_recursive else [])
        ):
            other = seen.setdefault(k8s_name, step.name)
            if other != step.name:
                yield Diagnostic(
                    step.location, f"steps '{other}' and '{step.name}' both become '{k8s_name}' on Argo; rename one"
                )


def most_iterations(step) -> int:
    """The most iterations of a recursive step Argo's controller will nest (see MAX_STACK_DEPTH)."""
    return MAX_STACK_DEPTH - 3 - step.foreach_depth


def check_recursion(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """What a loop template cannot carry: more iterations than Argo nests, or a choice among several exits."""
    for step in flow.steps:
        if not step.is_recursive:
            continue
        allowed = most_iterations(step)
        if step.recursion_max is not None and step.recursion_max > allowed:
            yield Diagnostic(
                step.location_of("recursion"),
                f"recursive step '{step.name}': @recursion(max={step.recursion_max}) (the default is 100) is more "
                f"iterations than Argo runs: each iteration is one template deeper and Argo's controller stops "
                f"at a nesting depth of {MAX_STACK_DEPTH}, so at most {allowed} fit here; "
                f"write @recursion(max=N) with N <= {allowed}",
            )
        if len(step.branches) > 1:
            yield Diagnostic(
                step.next_location or step.location,
                f"recursive step '{step.name}' has {len(step.branches)} exits "
                f"({', '.join(step.branches)}): on Argo the last iteration's choice stays inside its loop "
                "template, where the steps after it cannot read it; give it one exit (choose the branch in "
                "the step after it)",
            )


def check_skypilot(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """@skypilot steps run a launcher container; what their SkyPilot task cannot take is refused here too."""
    for step in flow.steps:
        if step.compute.backend == "skypilot":
            yield from step_problems(step)
            if step.is_switch:
                yield Diagnostic(
                    step.next_location or step.location,
                    f"step '{step.name}' runs on SkyPilot and chooses a branch: its launcher pod cannot pass the "
                    "choice to Argo; run the choice in a step without @skypilot",
                )


def check_schedule(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    schedule = flow.schedule
    if schedule is None:
        return
    cron_fields = schedule.cron.split()
    if not (schedule.cron.startswith("@") or len(cron_fields) == 5):
        yield Diagnostic(
            schedule.location,
            f"cron {schedule.cron!r}: Argo CronWorkflows take five fields "
            "(minute hour day month weekday) or a descriptor such as @daily",
        )


def check_flow_name(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    if options.name and not names.is_label(options.name):
        yield Diagnostic(
            flow.location,
            f"--name {options.name!r} is not a valid Argo WorkflowTemplate name "
            "(DNS-1123 label: lowercase letters, digits, '-', at most 63)",
        )


CHECKS = [
    check_namespaces,
    check_pod_values,
    check_argo_expressions,
    check_parameters,
    check_step_names,
    check_skypilot,
    check_recursion,
    check_schedule,
    check_flow_name,
]


def find_problems(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    """Every IR-level problem, all checks run."""
    return [d for check in CHECKS for d in check(flow, options)]


def stored_size_bytes(doc: dict) -> int:
    """The object's size as the API server stores it (compact JSON)."""
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def run_size_bytes(flow: FlowGraph, template_bytes: int) -> int:
    """The smallest Workflow object a run of this template makes: the spec it copies plus one node per step.

    A foreach adds its group and body nodes; each item adds ~3 more (argo_sim's model), which only the run knows.
    A recursive step is counted at its bound: each iteration adds a loop node, its pod and the (skipped) call of
    the next one.
    """
    nodes = 1 + len(flow.steps) + 2 * sum(1 for s in flow.steps if s.kind.value == "foreach")
    nodes += sum(3 * (s.recursion_max or 0) for s in flow.steps if s.is_recursive)
    return template_bytes + nodes * NODE_STATUS_BYTES


def check_documents(flow: FlowGraph, documents: list[dict]) -> list[Diagnostic]:
    """etcd stores the template up to 1.5 MiB, but each run copies its spec into a Workflow object that Argo's
    controller caps at MAX_WORKFLOW_SIZE (1 MiB), node statuses included: the run's budget is the one that binds."""
    size = stored_size_bytes(documents[0])
    if size > ETCD_LIMIT_BYTES:
        return [
            Diagnostic(
                flow.location,
                f"the WorkflowTemplate is {size:,} bytes, over the {ETCD_LIMIT_BYTES:,}-byte (1.5 MiB) "
                f"object limit of etcd behind Kubernetes ({len(flow.steps)} steps); split the flow or "
                "shorten large values (environment, parameter defaults)",
            )
        ]
    run_size = run_size_bytes(flow, size)
    if run_size <= MAX_WORKFLOW_SIZE_BYTES:
        return []
    return [
        Diagnostic(
            flow.location,
            f"each run of this WorkflowTemplate ({size:,} bytes, {len(flow.steps)} steps) makes a Workflow "
            f"object of at least {run_size:,} bytes (the spec plus ~{NODE_STATUS_BYTES} bytes of "
            f"compressed status per node), over Argo's MAX_WORKFLOW_SIZE of {MAX_WORKFLOW_SIZE_BYTES:,} "
            f"bytes (1 MiB), so every run would fail; {SIZE_BUDGET_NOTE}; split the flow or shorten "
            "large values (environment, parameter defaults)",
        )
    ]
