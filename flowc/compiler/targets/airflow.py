"""Target `airflow`: one self-contained Airflow 3 DAG file, rendered from flowc/templates/airflow_dag.py.j2.

Python builds a flat view model (every literal already a `repr`); the template
only loops and prints.  Each step is one task running the runtime argv
(flowc/compiler/command.py), either in a Kubernetes pod (default) or as a
local subprocess (`--operator local`).

Foreach: every step inside a foreach scope is one task mapped (`.expand`) over
the task ids of its innermost enclosing foreach, flattened across all of that
foreach's own instances.  The foreach step pushes its children's task ids as
its XCom; when the foreach step is itself mapped (nested foreach), a small
`<step>-task-ids` task concatenates the lists of its instances.  A body of
several steps maps each step over the same list, downstream of the whole
previous mapped task.  The join closing a foreach runs with the foreach step's
own task id (mapped the same way as the foreach step, or "0" outside any).

Conditionals and recursive steps: flowc/compiler/targets/airflow_conditional.py
(each task below a switch decides from its parents' XComs whether it runs; a
recursive step is unrolled into one task per allowed iteration).
"""

from __future__ import annotations

import hashlib
import re

from flowc.compiler import project
from flowc.compiler.command import ATTEMPT, ITERATION, ORIGIN_RUN, PARAM, RUN_ID, TASK_ID, Placeholder, runtime_argv
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.lower import kubernetes as k8s
from flowc.compiler.lower.skypilot import launcher_argv, restarts_in_skypilot, step_problems
from flowc.compiler.options import Options
from flowc.compiler.targets import airflow_conditional as conditional
from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.contract.events import event_asset_uri, flow_asset_uri

SUFFIX = ".airflow.py"
TEMPLATE = "airflow_dag.py.j2"
HELPERS = "airflow_helpers.py"  # inlined verbatim into every DAG (an ordinary, tested module)
OPERATORS = ("kubernetes", "local")
# KubernetesPodOperator pushes what the container writes here as the task's XCom.
POD_XCOM_FILE = "/airflow/xcom/return.json"
# Airflow's own rule for a DAG id (airflow.sdk.definitions._internal.node.validate_key: `^[\w.-]+$`, at most
# 250 characters), kept to ASCII: `\w` also takes non-ASCII letters, and its `$` a trailing newline.
DAG_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")
DAG_ID_MAX = 250
# The run a resume reuses: a DAG param (the dag-run conf key `flowc resume -t airflow` sets), "" for a fresh run.
ORIGIN_RUN_PARAM = (
    'Param("", type="string", description="flowc resume sets it: RUN or RUN/STEP, whose finished tasks this run '
    'reuses")'
)
PARAM_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "file": "string"}


def unsupported(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    """What a pod or a SkyPilot launcher cannot take, and a bad operator choice."""
    problems = [d for step in flow.steps if step.compute.backend == "skypilot" for d in step_problems(step)]
    problems += conditional.unsupported(flow)
    if options.name is not None and not DAG_ID.fullmatch(options.name):
        problems.append(
            Diagnostic(
                flow.location,
                f"--name {options.name!r} is not a valid Airflow DAG id: use letters, "
                f"digits, '_', '.' and '-', at most {DAG_ID_MAX} characters",
            )
        )
    for parameter in flow.parameters:
        if parameter.has_default and _has_non_finite(parameter.default):
            problems.append(
                Diagnostic(
                    parameter.location,
                    f"airflow: the default of parameter {parameter.name!r} holds "
                    "inf or nan, which Airflow's params (JSON) cannot carry",
                )
            )
    if options.operator not in OPERATORS:
        problems.append(
            Diagnostic(
                flow.location, f"airflow: unknown operator {options.operator!r}; choose one of {', '.join(OPERATORS)}"
            )
        )
    if options.operator == "local":
        for step in flow.steps:
            if k8s.secret_names(step):
                problems.append(
                    Diagnostic(
                        step.location,
                        f"airflow --operator local: secrets of step {step.name} "
                        "are not injected; the task inherits the worker's environment",
                        severity="warning",
                    )
                )
    else:
        problems += k8s.problems(flow, options)
    return problems


def lower(flow: FlowGraph, options: Options) -> dict:
    """The view model the template prints (view_model)."""
    return view_model(flow, options)


def check(flow: FlowGraph, view: dict, options: Options) -> list[Diagnostic]:
    """Nothing is measured on the DAG file: Airflow's bounds (max_map_length) are checked as the run maps."""
    return []


def render(view: dict, options: Options) -> str:
    """The DAG file's text: pure and deterministic."""
    import jinja2  # slow to import; only this target needs it

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("flowc", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    helpers, _, _ = environment.loader.get_source(environment, HELPERS)  # its text, never rendered as a template
    return environment.get_template(TEMPLATE).render(helpers=helpers.rstrip("\n"), **view)


def view_model(flow: FlowGraph, options: Options) -> dict:
    """The flat values the template prints; every value is already Python source text (user values via repr)."""
    local = options.operator == "local"
    concat_tasks = _nested_foreach_steps(flow)
    plan = conditional.plan(flow)
    variables = {t.task_id: _task_var(step.name, t) for step in flow.steps for t in plan[step.name]}
    return {
        "flow_name": repr(flow.name),
        "flow_file": repr(flow.file),
        "local": local,
        "dag_id": repr(dag_id(flow, options)),
        "doc": repr(flow.doc or f"{flow.name}, compiled by flowc from {flow.file}."),
        "schedule": _schedule(flow, options),
        "event_parameters": _event_parameters(flow),
        "params": [(repr(p.name), _param(p)) for p in flow.parameters] + [(repr(ORIGIN_RUN_INPUT), ORIGIN_RUN_PARAM)],
        "max_active_tasks": repr(options.max_workers) if options.max_workers else None,
        "tags": repr(["flowc"] + _project_tags(flow, options)),
        "code_dir": repr(options.code_dir),
        "tasks": [_task(flow, step, step_task, options) for step in flow.steps for step_task in plan[step.name]],
        "concat_tasks": [
            {"var": _concat_var(name), "task_id": repr(f"{name}-task-ids"), "source": _step_var(name)}
            for name in concat_tasks
        ],
        "edges": [
            (variables[parent], variables[step_task.task_id])
            for step in flow.steps
            for step_task in plan[step.name]
            for parent in step_task.upstream
        ],
    }


def _has_non_finite(value) -> bool:
    """inf or nan anywhere in a default: its repr is a bare name in Python, its JSON is no JSON."""
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(v) for v in value)
    return False


def dag_id(flow: FlowGraph, options: Options) -> str:
    """`--name`, else the flow's name; with @project Metaflow's `project.branch.Flow` (Airflow takes the dots)."""
    return options.name or default_dag_id(project.deployed_name(flow, options), None)


def _project_tags(flow: FlowGraph, options: Options) -> list[str]:
    """Metaflow's system tags of a project's runs: project:NAME and project_branch:BRANCH."""
    branch = project.branch(flow, options)
    return [] if branch is None else [f"project:{flow.project}", f"project_branch:{branch}"]


def default_dag_id(flow_name: str, project: str | None) -> str:
    """`[project-]Flow`, as Argo and Step Functions name a deployment (@project keeps two projects' DAGs apart).

    Kept as is when Airflow takes it; otherwise other characters become `_` and an 8-hex sha256 of the
    original is appended (stable, and two different names never meet), within Airflow's 250 characters.
    """
    name = f"{project}-{flow_name}" if project else flow_name
    if DAG_ID.fullmatch(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[: DAG_ID_MAX - 9]
    return f"{cleaned}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def _nested_foreach_steps(flow: FlowGraph) -> list[str]:
    """Foreach steps that are themselves mapped: their children's ids need concatenating."""
    return [s.name for s in flow.steps if s.kind is StepKind.FOREACH and s.foreach_depth > 0]


def _step_var(name: str) -> str:
    return f"step_{name}"


def _task_var(name: str, step_task: conditional.StepTask) -> str:
    """`step_<name>`, or `iteration_<N>_of_<name>` for a recursive step's copy: a step named `count_3` cannot
    take the variable of iteration 3 of `count`, whatever the names."""
    return _step_var(name) if step_task.iteration is None else f"iteration_{step_task.iteration}_of_{name}"


def _concat_var(name: str) -> str:
    return f"task_ids_{name}"


def _mapped_over(flow: FlowGraph, step: Step) -> str | None:
    """The XCom the step is expanded over: the task ids of its innermost foreach, or None."""
    if not step.foreach_scope:
        return None
    innermost = flow.step(step.foreach_scope[-1])
    return _concat_var(innermost.name) if innermost.foreach_depth else f"{_step_var(innermost.name)}.output"


def _task(flow: FlowGraph, step: Step, step_task: conditional.StepTask, options: Options) -> dict:
    local = options.operator == "local"
    foreach_out = None if local else POD_XCOM_FILE
    launcher = step.compute.backend == "skypilot"
    if launcher:  # a small task that launches the step's SkyPilot task and waits (flowc/runtime/skypilot_launch.py)
        argv = launcher_argv(flow, step, options, foreach_out=foreach_out)
    else:
        argv = runtime_argv(flow, step, options, foreach_out=foreach_out)
    parameter_types = {p.name: p.runtime_type for p in flow.parameters}
    spec = [_argv_item(item, parameter_types) for item in argv]
    if local:
        spec[0] = {"placeholder": "python"}  # the worker's own interpreter, not the container's
    kwargs = [("argv_spec", _pretty_list(spec))]
    if step.kind is StepKind.FOREACH:
        kwargs.append(("foreach", "True"))
    if step.is_switch:  # its XCom is the chosen step's name
        kwargs.append(("branch", "True"))
        if not local:  # a pod's XCom file must hold JSON: the choice is read from the datastore's branch.json
            kwargs += [
                ("datastore", repr(options.datastore)),
                ("flow_name", "FLOW_NAME"),
                ("step_name", repr(step.name)),
            ]
    if step_task.iteration is not None:
        kwargs.append(("iteration", repr(step_task.iteration)))
    if step_task.run_if:
        kwargs += [
            ("run_if", _pretty_list([condition.as_tuple() for condition in step_task.run_if])),
            ("trigger_rule", repr(conditional.GATHERING_TRIGGER_RULE)),
        ]
    if step.retry is not None and step.retry.times > 0 and not (launcher and restarts_in_skypilot(step)):
        kwargs += [
            ("retries", repr(step.retry.times)),
            ("retry_delay", f"datetime.timedelta(seconds={step.retry.delay_seconds!r})"),
        ]
    if step.timeout_seconds:
        kwargs.append(("execution_timeout", f"datetime.timedelta(seconds={step.timeout_seconds!r})"))
    if step.kind is StepKind.END:  # a run that reaches its end updates the flow's Asset: @trigger_on_finish's signal
        kwargs.append(("outlets", f"[Asset({flow_asset_uri(project.deployed_name(flow, options))!r})]"))
    if step.environment and not launcher:  # a @skypilot step's environment is in its task's envs
        kwargs.append(("env_vars", repr(dict(step.environment))))
    if launcher and not local:
        kwargs.append(("image", repr(options.skypilot_image)))
    elif not local:
        kwargs += _pod_kwargs(step, options)
    else:
        kwargs.append(("code_dir", "CODE_DIR"))
    return {
        "var": _task_var(step.name, step_task),
        "task_id": repr(step_task.task_id),
        "operator": "FlowcLocalOperator" if local else "FlowcKubernetesPodOperator",
        "kwargs": kwargs,
        "mapped_over": _mapped_over(flow, step),
        "line": step.location.line,
    }


def _pod_kwargs(step: Step, options: Options) -> list[tuple[str, str]]:
    """The pod's settings (flowc/compiler/lower/kubernetes.py, as Argo's) as FlowcKubernetesPodOperator arguments."""
    pod = k8s.pod(step, options)
    kwargs = [("image", repr(pod.image))]
    if pod.namespace:
        kwargs.append(("namespace", repr(pod.namespace)))
    if pod.service_account:
        kwargs.append(("service_account_name", repr(pod.service_account)))
    kwargs.append(("pod_resources", repr(pod.resources)))
    optional = (
        ("node_selector", pod.node_selector),
        ("tolerations", list(pod.tolerations)),
        ("secret_names", list(pod.secrets)),
        ("labels", pod.labels),
        ("annotations", pod.annotations),
        ("image_pull_policy", pod.image_pull_policy),
        ("volumes", list(pod.volumes)),
        ("volume_mounts", list(pod.volume_mounts)),
    )
    kwargs += [(name, repr(value)) for name, value in optional if value]
    return kwargs


def _argv_item(item: tuple, parameter_types: dict[str, str]) -> object:
    """A literal string, one placeholder dict, or a list of parts (literal strings and placeholder dicts)."""
    parts = [part if isinstance(part, str) else _placeholder(part, parameter_types) for part in item]
    return parts[0] if len(parts) == 1 else parts


def _placeholder(placeholder: Placeholder, parameter_types: dict[str, str]) -> dict:
    """What the DAG's render_argv fills in when the task runs; a parameter carries its type (json prints as JSON)."""
    names = {RUN_ID: "run_id", TASK_ID: "task_id", ATTEMPT: "attempt", ITERATION: "iteration", ORIGIN_RUN: "origin_run"}
    if placeholder.kind == PARAM:
        return {"placeholder": "param", "name": placeholder.name, "type": parameter_types[placeholder.name]}
    return {"placeholder": names[placeholder.kind]}


def _pretty_list(spec: list, width: int = 100) -> str:
    """A list (an argv spec, run conditions) as Python source, wrapped at `width` so golden diffs stay readable."""
    lines, line = [], ""
    for item in spec:
        text = f"{item!r}, "
        if line and len(line) + len(text) > width:
            lines.append(line.rstrip())
            line = ""
        line += text
    lines.append(line.rstrip())
    return "[\n" + "".join(f"            {text}\n" for text in lines) + "        ]"


def _param(parameter) -> str:
    kwargs = []
    if parameter.has_default:
        kwargs.append(repr(parameter.default))
    json_type = "array" if parameter.multiple else PARAM_JSON_TYPES.get(parameter.type)
    if json_type:
        kwargs.append(
            f"type={[json_type, 'null']!r}"
            if parameter.has_default and parameter.default is None
            else f"type={json_type!r}"
        )
    if parameter.help:
        kwargs.append(f"description={parameter.help!r}")
    return f"Param({', '.join(kwargs)})"


def _schedule(flow: FlowGraph, options: Options) -> str:
    if flow.triggers:  # a list of Assets: the DAG runs once every one of them has been updated (all, as Argo's Sensor)
        uris = [event_asset_uri(e.name) for e in flow.triggers.events]
        uris += [flow_asset_uri(project.upstream_name(flow, u, options)) for u in flow.triggers.finishes]
        return "[" + ", ".join(f"Asset({uri!r})" for uri in uris) + "]"
    if flow.schedule is None:
        return "None"
    return f"CronTriggerTimetable({flow.schedule.cron!r}, timezone={flow.schedule.timezone or 'UTC'!r})"


def _event_parameters(flow: FlowGraph) -> str | None:
    """{asset URI: {parameter: payload field}}: what render_argv reads from the triggering asset events' extra."""
    mapping = {event_asset_uri(e.name): dict(e.parameters) for e in flow.triggers.events if e.parameters}
    return repr(mapping) if mapping else None
