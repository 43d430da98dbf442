"""Target `argo`: a WorkflowTemplate (and a CronWorkflow for @schedule) built from hera's models.

Shape of the output:

- `spec.templateDefaults.container` holds what every step shares (the image,
  the `python -m flowc.runtime step FLOW_FILE` command, default resources), so
  each step's container template carries only what differs: its image (Argo's
  schema requires one per container), its argv tail, env and resources.
- `main` is the flow's DAG.  Each foreach scope is a DAG template
  `<foreach step>-body` with one input, `task-id`; the parent DAG runs it
  `withParam` over the foreach step's output parameter `foreach` (the JSON list
  of child task ids the runtime writes to `--foreach-out`).  Joins read their
  inputs from the datastore, so nothing of a foreach's width passes through Argo.
- Commands are argv lists; user values are single items, never shell text.

hera is imported inside functions so `flowc --help` stays fast.
"""

from __future__ import annotations

import json

from flowc.compiler.command import ATTEMPT, PARAM, RUN_ID, TASK_ID, Placeholder, flow_file_name, render, runtime_argv
from flowc.compiler.ir import FlowGraph, Parameter, Resources, Step, StepKind
from flowc.compiler.options import Options
from flowc.compiler.targets import argo_names as names

SUFFIX = ".argo.yaml"
API_VERSION = "argoproj.io/v1alpha1"
ETCD_LIMIT_BYTES = 1536 * 1024  # etcd's default request size limit (1.5 MiB)
FOREACH_OUT = "/tmp/flowc-foreach.json"
FOREACH_OUTPUT = "foreach"  # output parameter of a foreach step: the child task ids
TASK_ID_INPUT = "task-id"
COMMAND_LENGTH = 5  # python -m flowc.runtime step FLOW_FILE: shared in templateDefaults
ANNOTATION_PREFIX = "flowc.dev/"
# Keys printed first, in this order; the rest keep the models' (alphabetical) order.
KEY_ORDER = ("apiVersion", "kind", "metadata", "name", "namespace", "entrypoint", "inputs", "template", "depends",
             "withParam", "arguments", "dag", "image", "command", "args", "container", "outputs", "requests",
             "limit", "retryPolicy")


def unsupported(flow: FlowGraph, options: Options) -> list:
    """Located errors for what Argo cannot express (see argo_checks)."""
    from flowc.compiler.targets.argo_checks import find_problems

    return find_problems(flow, options)


def emit(flow: FlowGraph, options: Options) -> str:
    """The WorkflowTemplate (then the CronWorkflow, if scheduled) as YAML or JSON."""
    docs = documents(flow, options)
    if options.output_format == "json":
        body = docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": docs}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return "---\n".join(dump_yaml(doc) for doc in docs)


_last_build: tuple = (None, None, None)


def documents(flow: FlowGraph, options: Options) -> list[dict]:
    """The manifests as plain dicts, in print order.  The last build is kept: the size check reuses it."""
    global _last_build
    if _last_build[0] is flow and _last_build[1] == options:
        return _last_build[2]
    models = build_models(flow, options)
    docs = [ordered(m.model_dump(exclude_none=True, by_alias=True)) for m in models]
    _last_build = (flow, options, docs)
    return docs


def stored_size_bytes(doc: dict) -> int:
    """The object's size as the API server stores it (compact JSON)."""
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


# ---------------------------------------------------------------------------
# Building the models


def build_models(flow: FlowGraph, options: Options) -> list:
    """[WorkflowTemplate] or [WorkflowTemplate, CronWorkflow], as hera models."""
    from hera.workflows import models as m

    name = names.flow_resource_name(flow.name, flow.project, options.name)
    templates = [m.Template(name=names.MAIN_TEMPLATE, dag=m.DAGTemplate(tasks=dag_tasks(flow, ())))]
    templates += [body_template(flow, s) for s in flow.steps if s.kind is StepKind.FOREACH]
    templates += [step_template(flow, s, options) for s in flow.steps]
    spec = m.WorkflowSpec(
        entrypoint=names.MAIN_TEMPLATE,
        arguments=m.Arguments(parameters=[workflow_parameter(p) for p in flow.parameters]) if flow.parameters else None,
        parallelism=options.max_workers,
        service_account_name=options.service_account,
        template_defaults=m.Template(container=m.Container(
            image=options.image,
            command=shared_command(flow, options),
            resources=resource_requirements(Resources(), gpu_resource(options.gpu_vendor)))),
        templates=templates,
    )
    metadata = m.ObjectMeta(name=name, namespace=flow_namespace(flow, options), annotations=flow_annotations(flow))
    workflow_template = m.WorkflowTemplate(api_version=API_VERSION, kind="WorkflowTemplate", metadata=metadata, spec=spec)
    if flow.schedule is None:
        return [workflow_template]
    cron = m.CronWorkflow(
        api_version=API_VERSION, kind="CronWorkflow",
        metadata=m.ObjectMeta(name=names.cron_resource_name(name), namespace=metadata.namespace,
                              annotations={ANNOTATION_PREFIX + "flow": flow.name}),
        spec=m.CronWorkflowSpec(schedules=[flow.schedule.cron], timezone=flow.schedule.timezone,
                                workflow_spec=m.WorkflowSpec(workflow_template_ref=m.WorkflowTemplateRef(name=name))),
    )
    return [workflow_template, cron]


def dag_tasks(flow: FlowGraph, scope: tuple[str, ...]) -> list:
    """The tasks of the DAG for one foreach scope (`()` is the flow's top level)."""
    from hera.workflows import models as m

    depth = len(scope)
    pass_task_id = task_id_arguments("{{inputs.parameters.%s}}" % TASK_ID_INPUT) if depth else None
    tasks = []
    for step in flow.steps:
        if step.foreach_scope != scope:
            continue
        task_name = names.step_name(step.name)
        tasks.append(m.DAGTask(name=task_name, template=task_name, depends=depends_on(flow, step, scope),
                               arguments=pass_task_id))
        if step.kind is StepKind.FOREACH:
            body = names.body_template_name(step.name)
            tasks.append(m.DAGTask(
                name=body, template=body, depends=task_name,
                with_param="{{tasks.%s.outputs.parameters.%s}}" % (task_name, FOREACH_OUTPUT),
                arguments=task_id_arguments("{{item}}")))
    return tasks


def depends_on(flow: FlowGraph, step: Step, scope: tuple[str, ...]) -> str | None:
    """The `depends` expression: parents in this DAG; a parent deeper in a foreach means its body task."""
    found: list[str] = []
    for parent in flow.parents(step.name):
        if parent.foreach_scope == scope:
            found.append(names.step_name(parent.name))
        elif len(parent.foreach_scope) > len(scope):
            found.append(names.body_template_name(parent.foreach_scope[len(scope)]))
        # else: the foreach step that opens this body; the body task already waits for it.
    return " && ".join(dict.fromkeys(found)) or None


def task_id_arguments(value: str):
    from hera.workflows import models as m

    return m.Arguments(parameters=[m.Parameter(name=TASK_ID_INPUT, value=value)])


def task_id_inputs():
    from hera.workflows import models as m

    return m.Inputs(parameters=[m.Parameter(name=TASK_ID_INPUT)])


def body_template(flow: FlowGraph, foreach_step: Step):
    from hera.workflows import models as m

    scope = foreach_step.foreach_scope + (foreach_step.name,)
    return m.Template(name=names.body_template_name(foreach_step.name), inputs=task_id_inputs(),
                      dag=m.DAGTemplate(tasks=dag_tasks(flow, scope)))


def step_template(flow: FlowGraph, step: Step, options: Options):
    """One container template: the runtime argv tail plus what this step sets."""
    from hera.workflows import models as m

    if step.compute.backend == "skypilot":
        return launcher_template(flow, step, options)
    compute = step.compute
    vendor = compute.get("gpu_vendor") or options.gpu_vendor
    resources = resource_requirements(step.resources, gpu_resource(vendor))
    default_resources = resource_requirements(Resources(), gpu_resource(options.gpu_vendor))
    shm = step.resources.shared_memory_mib
    container = m.Container(
        image=step.image or options.image,
        args=step_args(flow, step, options),
        env=[m.EnvVar(name=k, value=v) for k, v in step.environment] or None,
        env_from=[m.EnvFromSource(secret_ref=m.SecretEnvSource(name=s)) for s in secret_names(step)] or None,
        image_pull_policy=compute.get("image_pull_policy"),
        resources=None if resources == default_resources else resources,
        volume_mounts=[m.VolumeMount(name="dshm", mount_path="/dev/shm")] if shm else None,
    )
    labels, annotations = compute.get("labels"), compute.get("annotations")
    retry = step.retry if step.retry is not None and step.retry.times > 0 else None
    return m.Template(
        name=names.step_name(step.name),
        inputs=task_id_inputs() if step.foreach_depth else None,
        outputs=m.Outputs(parameters=[m.Parameter(name=FOREACH_OUTPUT, value_from=m.ValueFrom(path=FOREACH_OUT))])
        if step.kind is StepKind.FOREACH else None,
        container=container,
        retry_strategy=m.RetryStrategy(
            limit=str(retry.times), retry_policy="Always",
            backoff=m.Backoff(duration=f"{retry.delay_seconds}s") if retry.delay_seconds else None,
        ) if retry else None,
        active_deadline_seconds=str(step.timeout_seconds) if step.timeout_seconds else None,
        service_account_name=compute.get("service_account"),
        node_selector=node_selector_map(compute.get("node_selector")) or None,
        tolerations=[m.Toleration(**toleration_fields(t)) for t in compute.get("tolerations")]
        if compute.get("tolerations") else None,
        metadata=m.Metadata(labels=string_map(labels), annotations=string_map(annotations))
        if labels or annotations else None,
        volumes=[m.Volume(name="dshm", empty_dir=m.EmptyDirVolumeSource(medium="Memory", size_limit=f"{shm}Mi"))]
        if shm else None,
    )


def launcher_template(flow: FlowGraph, step: Step, options: Options):
    """A @skypilot step: a small container that launches the step's SkyPilot task and waits for it.

    The step's resources are the SkyPilot task's; this pod keeps the default
    ones.  A managed job retries in SkyPilot, so Argo does not retry it too.
    """
    from hera.workflows import models as m

    from flowc.compiler.targets.skypilot import launcher_argv, restarts_in_skypilot

    argv = render(launcher_argv(flow, step, options, foreach_out=FOREACH_OUT), argo_placeholder)
    retry = step.retry if step.retry is not None and step.retry.times > 0 and not restarts_in_skypilot(step) else None
    return m.Template(
        name=names.step_name(step.name),
        inputs=task_id_inputs() if step.foreach_depth else None,
        outputs=m.Outputs(parameters=[m.Parameter(name=FOREACH_OUTPUT, value_from=m.ValueFrom(path=FOREACH_OUT))])
        if step.kind is StepKind.FOREACH else None,
        container=m.Container(image=options.skypilot_image, command=argv[:3], args=argv[3:]),
        retry_strategy=m.RetryStrategy(
            limit=str(retry.times), retry_policy="Always",
            backoff=m.Backoff(duration=f"{retry.delay_seconds}s") if retry.delay_seconds else None,
        ) if retry else None,
        active_deadline_seconds=str(step.timeout_seconds) if step.timeout_seconds else None,
    )


def argo_placeholder(p: Placeholder) -> str:
    if p.kind == RUN_ID:
        return "{{workflow.name}}"
    if p.kind == TASK_ID:
        return "{{inputs.parameters.%s}}" % TASK_ID_INPUT
    if p.kind == ATTEMPT:
        return "{{retries}}"
    if p.kind == PARAM:
        return "{{workflow.parameters.%s}}" % p.name
    raise ValueError(f"unknown placeholder {p.kind}")


def full_argv(flow: FlowGraph, step: Step, options: Options) -> list[str]:
    return render(runtime_argv(flow, step, options, foreach_out=FOREACH_OUT), argo_placeholder)


def shared_command(flow: FlowGraph, options: Options) -> list[str]:
    """`python -m flowc.runtime step FLOW_FILE`: the argv head every step shares."""
    return full_argv(flow, flow.steps[0], options)[:COMMAND_LENGTH]


def step_args(flow: FlowGraph, step: Step, options: Options) -> list[str]:
    argv = full_argv(flow, step, options)
    assert argv[:COMMAND_LENGTH] == shared_command(flow, options), "the runtime argv head changed shape"
    return argv[COMMAND_LENGTH:]


# ---------------------------------------------------------------------------
# Values


def cpu_quantity(cores: float) -> str:
    return str(int(cores)) if float(cores).is_integer() else f"{round(cores * 1000)}m"


def gpu_resource(vendor: str) -> str:
    return vendor if "/" in vendor else f"{vendor}.com/gpu"


def resource_requirements(resources: Resources, gpu_name: str):
    """Requests equal to limits (GPUs require it; memory limits keep a step from starving its node)."""
    from hera.workflows import models as m

    quantities = {"cpu": cpu_quantity(resources.cpu), "memory": f"{resources.memory_mib}Mi"}
    if resources.gpu:
        quantities[gpu_name] = str(resources.gpu)
    if resources.disk_mib:
        quantities["ephemeral-storage"] = f"{resources.disk_mib}Mi"
    return m.ResourceRequirements(requests=dict(quantities), limits=dict(quantities))


def secret_names(step: Step) -> list[str]:
    """@secrets sources and @kubernetes(secrets=...), by reference only, in order, once each."""
    from_kubernetes = step.compute.get("secrets") or ()
    if isinstance(from_kubernetes, str):
        from_kubernetes = (from_kubernetes,)
    return list(dict.fromkeys([*step.secrets, *from_kubernetes]))


TOLERATION_KEYS = {"key": "key", "operator": "operator", "value": "value", "effect": "effect",
                   "tolerationSeconds": "toleration_seconds", "toleration_seconds": "toleration_seconds"}


def toleration_fields(toleration: dict) -> dict:
    return {TOLERATION_KEYS[k]: v for k, v in toleration.items()}


def node_selector_map(selector) -> dict | None:
    """A mapping, or Metaflow's 'key=value,key=value' string, as a dict of strings (None if malformed)."""
    if not selector:
        return {}
    if isinstance(selector, dict):
        return {str(k): str(v) for k, v in selector.items()}
    if isinstance(selector, str):
        pairs = [item.partition("=") for item in selector.split(",") if item.strip()]
        if all(eq for _, eq, _ in pairs):
            return {k.strip(): v.strip() for k, _, v in pairs}
    return None


def string_map(mapping) -> dict | None:
    return {str(k): str(v) for k, v in mapping.items()} if mapping else None


def parameter_text(param: Parameter) -> str | None:
    """The default as the runtime parses it from `--param NAME=VALUE`; None when the run must supply it."""
    if not param.has_default or param.default is None:
        return None if param.required or not param.has_default else ""
    value = param.default
    if param.type == "json" or isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def workflow_parameter(param: Parameter):
    from hera.workflows import models as m

    return m.Parameter(name=param.name, value=parameter_text(param), description=param.help)


def step_namespaces(flow: FlowGraph) -> dict[str, str]:
    return {s.name: s.compute.get("namespace") for s in flow.steps if s.compute.get("namespace")}


def flow_namespace(flow: FlowGraph, options: Options) -> str | None:
    """--namespace, else the namespace the steps agree on (argo_checks refuses disagreement)."""
    if options.namespace:
        return options.namespace
    found = sorted(set(step_namespaces(flow).values()))
    return found[0] if found else None


def flow_annotations(flow: FlowGraph) -> dict[str, str]:
    """The original names; steps only where the Kubernetes name does not spell it with `-` for `_`."""
    annotations = {ANNOTATION_PREFIX + "flow": flow.name, ANNOTATION_PREFIX + "flow-file": flow_file_name(flow)}
    if flow.project:
        annotations[ANNOTATION_PREFIX + "project"] = flow.project
    renamed = {names.step_name(s.name): s.name for s in flow.steps
               if names.step_name(s.name).replace("-", "_") != s.name}
    if renamed:
        annotations[ANNOTATION_PREFIX + "step-names"] = json.dumps(renamed, sort_keys=True)
    return annotations


# ---------------------------------------------------------------------------
# Printing


def ordered(value):
    """Mappings with KEY_ORDER keys first (readable), the rest in the models' order (stable)."""
    if isinstance(value, dict):
        head = [k for k in KEY_ORDER if k in value]
        rest = [k for k in value if k not in KEY_ORDER]
        return {k: ordered(value[k]) for k in head + rest}
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def dump_yaml(doc: dict) -> str:
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc, valid-type]
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=100_000)
