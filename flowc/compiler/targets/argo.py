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
- A conditional is `when` on the switch's output parameter `branch`; a
  recursive step is a DAG template `<step>-loop` that calls itself
  (argo_branches.py says how Argo's skipped tasks shape `depends`).
- Commands are argv lists; user values are single items, never shell text.

hera is imported inside functions so `flowc --help` stays fast.
"""

from __future__ import annotations

import json

from flowc.compiler.command import flow_file_name
from flowc.compiler import project
from flowc.compiler.ir import FlowGraph, Parameter, Step, StepKind
from flowc.compiler.lower import kubernetes as k8s
from flowc.compiler.lower.parameters import parameter_text
from flowc.compiler.targets import argo_events
from flowc.compiler.lower.skypilot import launcher_argv, restarts_in_skypilot
from flowc.compiler.lower.yaml import dump_yaml, ordered
from flowc.compiler.options import Options
from flowc.compiler.targets import argo_branches as branches
from flowc.compiler.targets.argo_argv import (
    FOREACH_OUT,
    TASK_ID_INPUT,
    container_argv,
    shared_command,
    step_args,
)
from flowc.compiler.targets import argo_checks
from flowc.compiler.targets import argo_names as names
from flowc.contract.command import ORIGIN_RUN_INPUT

SUFFIX = ".argo.yaml"
API_VERSION = "argoproj.io/v1alpha1"
FOREACH_OUTPUT = "foreach"  # output parameter of a foreach step: the child task ids
ANNOTATION_PREFIX = "flowc.dev/"
PACKAGE_ENV = "FLOWC_PACKAGE"  # the launcher's --env that names a @skypilot step's code package
# Keys printed first, in this order; the rest keep the models' (alphabetical) order.
KEY_ORDER = (
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "entrypoint",
    "inputs",
    "template",
    "depends",
    "when",
    "withParam",
    "arguments",
    "dag",
    "image",
    "command",
    "args",
    "container",
    "outputs",
    "requests",
    "limit",
    "retryPolicy",
)


def unsupported(flow: FlowGraph, options: Options) -> list:
    """Located errors for what Argo cannot express, found on the IR (see argo_checks)."""
    return argo_checks.find_problems(flow, options)


def lower(flow: FlowGraph, options: Options) -> list[dict]:
    """The manifests as plain dicts, in print order: the WorkflowTemplate, then the CronWorkflow if scheduled
    or the Argo Events Sensor if triggered (flowc/compiler/targets/argo_events.py)."""
    docs = [ordered(m.model_dump(exclude_none=True, by_alias=True), KEY_ORDER) for m in build_models(flow, options)]
    if flow.triggers:
        defaults = {p.name: workflow_parameter(p).value for p in flow.parameters}
        docs.append(argo_events.sensor(flow, options, docs[0]["metadata"], defaults))
    return docs


def check(flow: FlowGraph, docs: list[dict], options: Options) -> list:
    """Limits measured on the built manifests (etcd's object size)."""
    return argo_checks.check_documents(flow, docs)


def render(docs: list[dict], options: Options) -> str:
    """YAML documents, or JSON (a List when there are two)."""
    if options.output_format == "json":
        body = docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": docs}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return "---\n".join(dump_yaml(doc) for doc in docs)


# ---------------------------------------------------------------------------
# Building the models


def template_name(flow: FlowGraph, options: Options) -> str:
    """`--name`, else the flow's name lowercased; with @project `project-branch-flow` (Metaflow's
    project.branch.Flow with `-` for `.`); deploy, trigger and status name the template by it."""
    return names.flow_resource_name(project.deployed_name(flow, options).replace(".", "-"), None, options.name)


def build_models(flow: FlowGraph, options: Options) -> list:
    """[WorkflowTemplate] or [WorkflowTemplate, CronWorkflow], as hera models."""
    from hera.workflows import models as m

    name = template_name(flow, options)
    templates = [m.Template(name=names.MAIN_TEMPLATE, dag=m.DAGTemplate(tasks=dag_tasks(flow, ())))]
    templates += [body_template(flow, s) for s in flow.steps if s.kind is StepKind.FOREACH]
    templates += [
        branches.loop_template(s, task_id_input_list(s), pass_task_id_list(s)) for s in flow.steps if s.is_recursive
    ]
    templates += [step_template(flow, s, options) for s in flow.steps]
    spec = m.WorkflowSpec(
        entrypoint=names.MAIN_TEMPLATE,
        arguments=workflow_arguments(flow, options),
        parallelism=options.max_workers,
        service_account_name=options.service_account,
        template_defaults=m.Template(
            container=m.Container(
                image=options.image,
                command=shared_command(flow, options),
                resources=resource_requirements(k8s.default_resource_quantities(options)),
            )
        ),
        templates=templates,
    )
    metadata = m.ObjectMeta(
        name=name, namespace=flow_namespace(flow, options), annotations=flow_annotations(flow, options)
    )
    workflow_template = m.WorkflowTemplate(
        api_version=API_VERSION, kind="WorkflowTemplate", metadata=metadata, spec=spec
    )
    if flow.schedule is None:
        return [workflow_template]
    cron = m.CronWorkflow(
        api_version=API_VERSION,
        kind="CronWorkflow",
        metadata=m.ObjectMeta(
            name=names.cron_resource_name(name),
            namespace=metadata.namespace,
            annotations={ANNOTATION_PREFIX + "flow": flow.name},
        ),
        spec=m.CronWorkflowSpec(
            schedules=[flow.schedule.cron],
            timezone=flow.schedule.timezone,
            workflow_spec=m.WorkflowSpec(workflow_template_ref=m.WorkflowTemplateRef(name=name)),
        ),
    )
    return [workflow_template, cron]


def dag_tasks(flow: FlowGraph, scope: tuple[str, ...]) -> list:
    """The tasks of the DAG for one foreach scope (`()` is the flow's top level)."""
    from hera.workflows import models as m

    depth = len(scope)
    pass_task_id = task_id_arguments("{{inputs.parameters.%s}}" % TASK_ID_INPUT) if depth else None
    conditional = branches.may_not_run(flow)
    tasks = []
    for step in flow.steps:
        if step.foreach_scope != scope:
            continue
        task_name = names.step_name(step.name)
        tasks.append(
            m.DAGTask(
                name=task_name,
                template=names.loop_template_name(step.name) if step.is_recursive else task_name,
                depends=branches.depends(flow, step, scope, conditional),
                when=branches.when_chosen(flow, step),
                arguments=branches.first_iteration(pass_task_id) if step.is_recursive else pass_task_id,
            )
        )
        if step.kind is StepKind.FOREACH:
            body = names.body_template_name(step.name)
            tasks.append(
                m.DAGTask(
                    name=body,
                    template=body,
                    depends=branches.task_result(task_name, step.name in conditional),
                    with_param="{{tasks.%s.outputs.parameters.%s}}" % (task_name, FOREACH_OUTPUT),
                    arguments=task_id_arguments("{{item}}"),
                )
            )
    return tasks


def task_id_arguments(value: str):
    from hera.workflows import models as m

    return m.Arguments(parameters=[m.Parameter(name=TASK_ID_INPUT, value=value)])


def task_id_inputs():
    from hera.workflows import models as m

    return m.Inputs(parameters=[m.Parameter(name=TASK_ID_INPUT)])


def task_id_input_list(step: Step) -> list:
    """The task-id input of a template inside a foreach, else none."""
    return list(task_id_inputs().parameters) if step.foreach_depth else []


def pass_task_id_list(step: Step) -> list:
    """The argument that passes a foreach iteration's task id on, else none."""
    return list(task_id_arguments("{{inputs.parameters.%s}}" % TASK_ID_INPUT).parameters) if step.foreach_depth else []


def body_template(flow: FlowGraph, foreach_step: Step):
    from hera.workflows import models as m

    scope = foreach_step.foreach_scope + (foreach_step.name,)
    return m.Template(
        name=names.body_template_name(foreach_step.name),
        inputs=task_id_inputs(),
        dag=m.DAGTemplate(tasks=dag_tasks(flow, scope)),
    )


def step_template(flow: FlowGraph, step: Step, options: Options):
    """One container template: the runtime argv tail plus what this step's pod sets (flowc/compiler/lower/kubernetes.py)."""
    from hera.workflows import models as m

    if step.compute.backend == "skypilot":
        return launcher_template(flow, step, options)
    pod = k8s.pod(step, options)
    container = m.Container(
        image=pod.image,
        args=step_args(flow, step, options),
        env=[m.EnvVar(name=k, value=k8s.kubelet_literal(v)) for k, v in step.environment] or None,
        env_from=[m.EnvFromSource(secret_ref=m.SecretEnvSource(name=s)) for s in pod.secrets] or None,
        image_pull_policy=pod.image_pull_policy,
        resources=None
        if pod.resources == k8s.default_resource_quantities(options)
        else resource_requirements(pod.resources),
        volume_mounts=[m.VolumeMount(**mount) for mount in pod.volume_mounts] or None,
    )
    retry = step.retry if step.retry is not None and step.retry.times > 0 else None
    return m.Template(
        name=names.step_name(step.name),
        inputs=branches.step_inputs(step, task_id_input_list(step)),
        outputs=branches.step_outputs(step, FOREACH_OUTPUT, FOREACH_OUT),
        container=container,
        retry_strategy=retry_strategy(retry),
        active_deadline_seconds=str(step.timeout_seconds) if step.timeout_seconds else None,
        # The workflow's spec carries --service-account; a template names only a step's own.
        service_account_name=pod.service_account if pod.service_account != options.service_account else None,
        node_selector=pod.node_selector or None,
        tolerations=[m.Toleration(**t) for t in pod.tolerations] or None,
        metadata=m.Metadata(labels=pod.labels or None, annotations=pod.annotations or None)
        if pod.labels or pod.annotations
        else None,
        volumes=[m.Volume(name=v["name"], empty_dir=m.EmptyDirVolumeSource(**v["empty_dir"])) for v in pod.volumes]
        or None,
    )


def launcher_template(flow: FlowGraph, step: Step, options: Options):
    """A @skypilot step: a small container that launches the step's SkyPilot task and waits for it.

    The step's resources are the SkyPilot task's; this pod keeps the default
    ones.  A managed job retries in SkyPilot, so Argo does not retry it too.
    """
    from hera.workflows import models as m

    argv = container_argv(launcher_argv(flow, step, options, foreach_out=FOREACH_OUT))
    argv += ["--env", f"{PACKAGE_ENV}={{{{workflow.parameters.{names.PACKAGE_PARAMETER}}}}}"]
    retry = step.retry if step.retry is not None and step.retry.times > 0 and not restarts_in_skypilot(step) else None
    return m.Template(
        name=names.step_name(step.name),
        inputs=task_id_inputs() if step.foreach_depth else None,
        outputs=m.Outputs(parameters=[m.Parameter(name=FOREACH_OUTPUT, value_from=m.ValueFrom(path=FOREACH_OUT))])
        if step.kind is StepKind.FOREACH
        else None,
        container=m.Container(image=options.skypilot_image, command=argv[:3], args=argv[3:]),
        retry_strategy=retry_strategy(retry),
        active_deadline_seconds=str(step.timeout_seconds) if step.timeout_seconds else None,
    )


def retry_strategy(retry):
    """@retry as Argo's retryStrategy: it retries every non-zero exit (the runtime keeps NOT_RETRIED final)."""
    from hera.workflows import models as m

    if retry is None:
        return None
    backoff = m.Backoff(duration=f"{retry.delay_seconds}s") if retry.delay_seconds else None
    return m.RetryStrategy(limit=str(retry.times), retry_policy="Always", backoff=backoff)


# ---------------------------------------------------------------------------
# Values


def resource_requirements(quantities: dict[str, str]):
    """Requests equal to limits (the quantities come from lower/kubernetes.py)."""
    from hera.workflows import models as m

    return m.ResourceRequirements(requests=dict(quantities), limits=dict(quantities))


def workflow_arguments(flow: FlowGraph, options: Options):
    """The flow's parameters, the run a resume reuses (ORIGIN_RUN_INPUT, "" for a fresh run), then the code
    package's URL if a @skypilot step needs it (argo_names.PACKAGE_PARAMETER)."""
    from hera.workflows import models as m

    parameters = [workflow_parameter(p) for p in flow.parameters]
    parameters.append(
        m.Parameter(
            name=ORIGIN_RUN_INPUT,
            value="",
            description="`flowc resume RUN -t argo` sets it: RUN or RUN/STEP, whose finished tasks this run reuses",
        )
    )
    if any(s.compute.backend == "skypilot" for s in flow.steps):
        parameters.append(
            m.Parameter(
                name=names.PACKAGE_PARAMETER,
                value=options.package_url,
                description="URL of the flow's code package, which @skypilot steps fetch (flowc deploy fills it; "
                "else `flowc package` prints one)",
            )
        )
    return m.Arguments(parameters=parameters)


def workflow_parameter(param: Parameter):
    """A workflow argument; only a required parameter has no value, so `argo submit` asks for it.

    An optional parameter without a default (or with default=None) gets "": Argo refuses a
    WorkflowTemplate argument without a value unless `-p` supplies it, and the runtime reads an
    empty `--param NAME=` as "not given" (the flow's default, None).
    """
    from hera.workflows import models as m

    value = parameter_text(param)
    if value is None and not param.required:
        value = ""
    elif value is not None and k8s.kubelet_may_rewrite(value):
        value = ""  # the kubelet would rewrite it in the container's args; "" makes the runtime read the flow's own
    return m.Parameter(name=param.name, value=value, description=param.help)


def flow_namespace(flow: FlowGraph, options: Options) -> str | None:
    """--namespace, else the namespace the steps agree on (argo_checks refuses disagreement)."""
    if options.namespace:
        return options.namespace
    found = sorted(set(k8s.step_namespaces(flow).values()))
    return found[0] if found else None


def flow_annotations(flow: FlowGraph, options: Options) -> dict[str, str]:
    """The original names; steps only where the Kubernetes name does not spell it with `-` for `_`."""
    annotations = {ANNOTATION_PREFIX + "flow": flow.name, ANNOTATION_PREFIX + "flow-file": flow_file_name(flow)}
    if flow.project:
        annotations[ANNOTATION_PREFIX + "project"] = flow.project
        annotations[ANNOTATION_PREFIX + "project-branch"] = project.branch(flow, options)
    renamed = {
        names.step_name(s.name): s.name for s in flow.steps if names.step_name(s.name).replace("-", "_") != s.name
    }
    if renamed:
        annotations[ANNOTATION_PREFIX + "step-names"] = json.dumps(renamed, sort_keys=True)
    return annotations
