"""What Argo cannot express, as located errors: `CHECKS`, each `(flow, options) -> Iterable[Diagnostic]`.

All run, all are reported.  The size check builds the manifest, so it runs
last and only when the others pass (emit reuses that build).
"""

from __future__ import annotations

import re
from typing import Iterable

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph
from flowc.compiler.options import Options
from flowc.compiler.targets import argo_names as names


def check_namespaces(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """One WorkflowTemplate lives in one namespace; its pods run there."""
    from flowc.compiler.targets.argo import step_namespaces

    declared = step_namespaces(flow)
    wanted = options.namespace or (sorted(set(declared.values()))[0] if declared else None)
    for step_name, namespace in declared.items():
        if namespace != wanted:
            yield Diagnostic(flow.step(step_name).location_of("kubernetes"),
                             f"step '{step_name}' asks for namespace '{namespace}', but an Argo workflow runs all its "
                             f"pods in one namespace ('{wanted}'); use the same namespace for every step")
    for step_name, namespace in declared.items():
        if not names.is_label(namespace):
            yield Diagnostic(flow.step(step_name).location_of("kubernetes"),
                             f"namespace '{namespace}' is not a valid Kubernetes namespace name (DNS-1123 label)")


def check_secrets(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    from flowc.compiler.targets.argo import secret_names

    for step in flow.steps:
        for secret in secret_names(step):
            if not isinstance(secret, str) or not names.is_subdomain(secret):
                yield Diagnostic(step.location_of("secrets", "kubernetes"),
                                 f"secret {secret!r} is not a Kubernetes Secret name (lowercase letters, digits, "
                                 "'-' and '.'); Argo passes secrets by reference to a Kubernetes Secret")


def check_environment(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    for step in flow.steps:
        for key, value in step.environment:
            if not names.is_env_name(key):
                yield Diagnostic(step.location_of("environment"), f"environment variable name {key!r} is not valid in a "
                                                             "Kubernetes container")
            if names.has_argo_expression(key + value):
                yield Diagnostic(step.location_of("environment"),
                                 f"environment variable {key}: Argo would replace the '{{{{...}}}}' in its value "
                                 "with a workflow variable, and has no escape for it")


def check_parameters(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    from flowc.compiler.targets.argo import parameter_text

    for param in flow.parameters:
        if not names.is_parameter_name(param.name):
            yield Diagnostic(param.location, f"parameter name {param.name!r}: Argo parameter names may hold only "
                                             "letters, digits, '-' and '_'")
        text = parameter_text(param)
        if text is not None and names.has_argo_expression(text):
            yield Diagnostic(param.location, f"parameter '{param.name}': Argo would replace the '{{{{...}}}}' in its "
                                             "default with a workflow variable, and has no escape for it")


def check_step_names(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    seen: dict[str, str] = {}
    for step in flow.steps:
        for k8s_name in [names.step_name(step.name)] + ([names.body_template_name(step.name)]
                                                        if step.foreach_var or step.kind.value == "foreach" else []):
            other = seen.setdefault(k8s_name, step.name)
            if other != step.name:
                yield Diagnostic(step.location, f"steps '{other}' and '{step.name}' both become '{k8s_name}' on Argo; "
                                                "rename one")


def check_kubernetes_values(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    from flowc.compiler.targets.argo import TOLERATION_KEYS, node_selector_map

    for step in flow.steps:
        compute = step.compute
        tolerations = compute.get("tolerations") or []
        for toleration in tolerations:
            if not isinstance(toleration, dict) or not set(toleration) <= set(TOLERATION_KEYS):
                yield Diagnostic(step.location_of("kubernetes"),
                                 f"toleration {toleration!r}: expected a mapping with keys from "
                                 "key, operator, value, effect, tolerationSeconds")
        selector = compute.get("node_selector")
        if selector is not None and node_selector_map(selector) is None:
            yield Diagnostic(step.location_of("kubernetes"),
                             f"node_selector {selector!r}: expected a mapping or 'key=value,key=value'")
        vendor = compute.get("gpu_vendor") or options.gpu_vendor
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", vendor):
            yield Diagnostic(step.location_of("kubernetes", "resources"), f"gpu vendor {vendor!r} does not make a "
                                                                      "Kubernetes resource name")
        image = step.image or options.image
        if names.has_argo_expression(image):
            yield Diagnostic(step.location_of("kubernetes", "batch"), f"image {image!r}: Argo would replace its '{{{{...}}}}'")


def check_skypilot(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """@skypilot steps run a launcher container; what their SkyPilot task cannot take is refused here too."""
    from flowc.compiler.targets.skypilot import step_problems

    for step in flow.steps:
        if step.compute.backend == "skypilot":
            yield from step_problems(step)
    if names.has_argo_expression(options.skypilot_image):
        yield Diagnostic(flow.location, f"--skypilot-image {options.skypilot_image!r}: Argo would replace its '{{{{...}}}}'")


def check_schedule(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    schedule = flow.schedule
    if schedule is None:
        return
    fields = schedule.cron.split()
    if not (schedule.cron.startswith("@") or len(fields) == 5):
        yield Diagnostic(schedule.location, f"cron {schedule.cron!r}: Argo CronWorkflows take five fields "
                                            "(minute hour day month weekday) or a descriptor such as @daily")


def check_flow_name(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    if options.name and not names.is_label(options.name):
        yield Diagnostic(flow.location, f"--name {options.name!r} is not a valid Argo WorkflowTemplate name "
                                        "(DNS-1123 label: lowercase letters, digits, '-', at most 63)")
    for value, what in ((options.datastore, "--datastore"), (options.image, "--image")):
        if names.has_argo_expression(value or ""):
            yield Diagnostic(flow.location, f"{what} {value!r}: Argo would replace its '{{{{...}}}}'")


def check_size(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """etcd refuses objects over 1.5 MiB; say so at compile time, with the size."""
    from flowc.compiler.targets.argo import ETCD_LIMIT_BYTES, documents, stored_size_bytes

    size = stored_size_bytes(documents(flow, options)[0])
    if size > ETCD_LIMIT_BYTES:
        yield Diagnostic(flow.location,
                         f"the WorkflowTemplate is {size:,} bytes, over the {ETCD_LIMIT_BYTES:,}-byte (1.5 MiB) "
                         f"object limit of etcd behind Kubernetes ({len(flow.steps)} steps); split the flow or "
                         "shorten large values (environment, parameter defaults)")


CHECKS = [check_namespaces, check_secrets, check_environment, check_parameters, check_step_names,
          check_kubernetes_values, check_skypilot, check_schedule, check_flow_name]


def find_problems(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    problems = [d for check in CHECKS for d in check(flow, options)]
    if not problems:
        problems += list(check_size(flow, options))
    return problems
