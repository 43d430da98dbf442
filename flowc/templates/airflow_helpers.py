"""What every DAG flowc writes carries: the helpers and operators below, inlined verbatim by airflow_dag.py.j2.

An ordinary module so it is linted and unit-tested directly
(tests/test_airflow_helpers.py); the generated DAG stays one self-contained
file that imports nothing of flowc when the scheduler parses it.  No
`from __future__` here (it must open a file, and this text sits in the middle
of one): annotations use typing's spellings.

Operator arguments hold finished values (argv specs, quantities, names), never
templates: a user value cannot reach Jinja or a shell.  Airflow renders Jinja in
an operator's `template_fields` before `execute`; flowc's operators have none,
and the KubernetesPodOperator they build has none either (FlowcPodOperator), so
`{{ ... }}` in an environment value, a label or a parameter stays text.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

from airflow.sdk import BaseOperator

SAFE_RUN_ID = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]*")
# The runtime's exit codes no retry can change (usage, corrupt blob): flowc/contract/command.py NOT_RETRIED,
# copied because the DAG imports nothing of flowc (tests/test_airflow_helpers.py keeps the two equal).
NOT_RETRIED = (2, 4)
BASE_CONTAINER = "base"  # the KubernetesPodOperator's name for the container that runs the argv
# Where a switch task's choice lies in the datastore (flowc/contract/layout.py task_key(..., BRANCH) and
# BRANCH_NEXT, copied for the same reason; tests/test_conditional_airflow.py keeps them equal).
BRANCH_KEY = "{flow}/runs/{run_id}/{step}/{task_id}/branch.json"
BRANCH_NEXT = "next"
# The DAG param naming the run a resume reuses (flowc/contract/command.py ORIGIN_RUN_INPUT; tests keep them equal).
ORIGIN_RUN_INPUT = "flowc-origin-run"


def flowc_run_id(airflow_run_id: str) -> str:
    """The DAG run id, or (if it has characters a datastore path must not) a cleaned copy tagged with its hash."""
    if SAFE_RUN_ID.fullmatch(airflow_run_id):
        return airflow_run_id
    cleaned = re.sub(r"[^A-Za-z0-9_.:-]", "_", airflow_run_id).lstrip(".")
    return f"{cleaned}-{hashlib.sha256(airflow_run_id.encode()).hexdigest()[:8]}"


def parameter_text(value, parameter_type: Optional[str]) -> str:
    """A run's parameter value as the text `--param NAME=TEXT` carries (what the runtime parses)."""
    if parameter_type == "json" and not isinstance(value, str):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# @trigger's parameter mapping: asset URI -> {parameter: payload field}.  The DAG file rebinds it below
# this module's text when its flow maps event payloads to parameters.
EVENT_PARAMETERS: dict = {}


def run_params(context) -> dict:
    """The run's params, with the values the triggering asset events' extra maps to parameters (the last event wins).

    Every task of a run reads the same triggering events, so every task sees the same values.
    """
    params = dict(context["params"])
    if not EVENT_PARAMETERS:
        return params
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        mapping = EVENT_PARAMETERS.get(getattr(asset, "uri", None))
        extra = (events[-1].extra or {}) if mapping and events else {}
        for parameter, field in (mapping or {}).items():
            if field in extra:
                params[parameter] = extra[field]
    return params


def render_argv(argv_spec: list, context, flowc_task_id: str, iteration: Optional[int] = None) -> List[str]:
    """Each argv item as one string; placeholders filled from the run (values never pass through a template)."""
    params = run_params(context)

    def fill(part):
        if isinstance(part, str):
            return part
        kind = part["placeholder"]
        if kind == "run_id":
            return flowc_run_id(context["run_id"])
        if kind == "task_id":
            return str(flowc_task_id)
        if kind == "attempt":
            return str(context["ti"].try_number - 1)
        if kind == "iteration":
            return str(iteration)
        if kind == "origin_run":  # checked by the runtime before it names anything
            return str(context["params"].get(ORIGIN_RUN_INPUT) or "")
        if kind == "param":
            return parameter_text(params[part["name"]], part.get("type"))
        if kind == "python":
            return sys.executable
        raise ValueError(f"unknown placeholder {part!r}")

    argv = []
    for item in argv_spec:
        parts = item if isinstance(item, list) else [item]
        if any(isinstance(p, dict) and p["placeholder"] == "param" and params.get(p["name"]) is None for p in parts):
            argv.pop()  # an unset parameter: drop its "--param" too, the runtime uses the flow's default
            continue
        argv.append("".join(fill(part) for part in parts))
    return argv


def should_run(run_if: list, ti) -> bool:
    """Whether any parent leads to this task: a switch parent chose it, or another parent ran (its XCom is set).

    Each condition is (parent task id, chosen step name or None, same map index); a parent in the same
    foreach scope is read at this task's own map index (each foreach child chooses for itself), a deeper
    one (the body before a join) at all of its map indexes."""
    for parent, chose, same_map_index in run_if:
        if same_map_index:
            values = [ti.xcom_pull(task_ids=parent, map_indexes=ti.map_index)]
        else:
            values = ti.xcom_pull(task_ids=[parent])  # a list: one value per map index
        if any(value is not None and (chose is None or value == chose) for value in values):
            return True
    return False


def skip_unless_reached(run_if: list, context, task_id: str) -> None:
    """Raise AirflowSkipException when no parent leads here (a branch not taken, an iteration not needed)."""
    if run_if and not should_run(run_if, context["ti"]):
        from airflow.sdk.exceptions import AirflowSkipException  # only on this path

        raise AirflowSkipException(f"{task_id}: not on the branch its conditional chose")


def flowc_task_name(flowc_task_id: str, iteration: Optional[int]) -> str:
    """The datastore's task name: the task id, or `<task id>-<iteration>` for a recursive step (contract/ids.py)."""
    return str(flowc_task_id) if iteration is None else f"{flowc_task_id}-{iteration}"


def read_branch_choice(datastore: str, flow: str, run_id: str, step: str, task: str) -> str:
    """The step a finished switch task chose, from its branch.json (plain JSON) in the datastore."""
    key = BRANCH_KEY.format(flow=flow, run_id=run_id, step=step, task_id=task)
    if datastore.startswith("s3://"):
        import boto3  # only a pod's switch task reads S3 from the worker

        bucket, _, prefix = datastore[len("s3://") :].partition("/")
        prefix = prefix.strip("/")  # as the runtime's S3Datastore joins its keys
        full_key = f"{prefix}/{key}" if prefix else key
        text = boto3.client("s3").get_object(Bucket=bucket, Key=full_key)["Body"].read().decode("utf-8")
    else:
        with open(os.path.join(datastore, *key.split("/")), encoding="utf-8") as f:
            text = f.read()
    return json.loads(text)[BRANCH_NEXT]


def kubelet_escape(text: str) -> str:
    """`text` as the kubelet passes it on: it rewrites `$$` to `$` and `$(NAME)` to a variable's value in a
    container's command, args and env values, so every `$` is doubled (`$$` always becomes one `$` again)."""
    return text.replace("$", "$$")


def step_failed(task_id: str, flowc_task_id: str, exit_code: Optional[int]) -> Exception:
    """The exception a failed step raises: AirflowFailException (no retry) for the codes no retry can change."""
    message = f"step {task_id} (task {flowc_task_id}) exited with {exit_code}"
    if exit_code in NOT_RETRIED:
        from airflow.sdk.exceptions import AirflowFailException  # only on this failure path

        return AirflowFailException(message + " (a usage error or a corrupt blob: retrying cannot help)")
    return RuntimeError(message)


def container_exit_code(pod, container_name: str = BASE_CONTAINER) -> Optional[int]:
    """The exit code of a finished pod's container (a kubernetes V1Pod), or None if it did not terminate."""
    statuses = getattr(getattr(pod, "status", None), "container_statuses", None) or []
    for status in statuses:
        terminated = status.state.terminated if status.name == container_name and status.state else None
        if terminated is not None:
            return terminated.exit_code
    return None


def max_map_length() -> int:
    from airflow.sdk.configuration import conf  # read when a task runs, not at parse time

    return conf.getint("core", "max_map_length", fallback=1024)


def check_map_length(task_ids: list, task_id: str) -> None:
    """Fail here, naming the setting, rather than later in Airflow's mapping with a vaguer error."""
    limit = max_map_length()
    if len(task_ids) > limit:
        raise RuntimeError(
            f"{task_id}: a foreach of {len(task_ids)} items exceeds Airflow's [core] max_map_length "
            f"({limit}); raise it (AIRFLOW__CORE__MAX_MAP_LENGTH) to run this flow"
        )


def concatenate_task_ids(split_lists) -> list:
    """The children of every instance of a mapped (nested) foreach step, as one list to map over."""
    task_ids = [task_id for split_list in split_lists for task_id in split_list]
    check_map_length(task_ids, "concatenate_task_ids")
    return task_ids


class FlowcLocalOperator(BaseOperator):
    """Runs one step as a local subprocess of the worker (argv list, no shell)."""

    ui_color = "#e8f4e8"
    template_fields = ()  # nothing is rendered by Jinja: argv and env hold user values verbatim

    def __init__(
        self,
        *,
        argv_spec: list,
        flowc_task_id: str = "0",
        foreach: bool = False,
        branch: bool = False,
        iteration: Optional[int] = None,
        run_if: Optional[list] = None,
        code_dir: Optional[str] = None,
        env_vars: Optional[Dict[str, str]] = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.argv_spec = argv_spec
        self.flowc_task_id = flowc_task_id
        self.foreach = foreach
        self.branch = branch
        self.iteration = iteration
        self.run_if = run_if or []
        self.code_dir = code_dir
        self.env_vars = env_vars or {}

    def execute(self, context):
        skip_unless_reached(self.run_if, context, self.task_id)
        argv = render_argv(self.argv_spec, context, self.flowc_task_id, self.iteration)
        with tempfile.TemporaryDirectory(prefix="flowc-") as scratch:
            split_list_file = os.path.join(scratch, "foreach.json")
            branch_file = os.path.join(scratch, "branch")
            if self.foreach:
                argv += ["--foreach-out", split_list_file]
            if self.branch:
                argv += ["--branch-out", branch_file]
            self.log.info("running %s", argv)
            with subprocess.Popen(
                argv,
                cwd=self.code_dir,
                env=dict(os.environ, **self.env_vars),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as process:
                for line in process.stdout:
                    self.log.info("%s", line.rstrip("\n"))
            if process.returncode != 0:
                raise step_failed(self.task_id, self.flowc_task_id, process.returncode)
            if self.branch:  # the chosen step's name: the XCom its branches read (should_run)
                with open(branch_file, encoding="utf-8") as f:
                    return f.read()
            if not self.foreach:
                return True  # "ran": the XCom a task below a conditional reads (should_run)
            with open(split_list_file, encoding="utf-8") as f:
                task_ids = json.load(f)
        check_map_length(task_ids, self.task_id)
        return task_ids


class FlowcKubernetesPodOperator(BaseOperator):
    """Runs one step in a pod through the cncf.kubernetes provider's KubernetesPodOperator.

    The pod's settings come from flowc/compiler/lower/kubernetes.py, as Argo's
    do: tolerations, volumes and mounts are dicts of the kubernetes client's
    snake_case field names.  The provider (and the kubernetes client) is
    imported when the task runs, not when the scheduler parses the DAG: that
    import alone takes about a second.
    """

    ui_color = "#e6f0ff"
    template_fields = ()  # nothing is rendered by Jinja: argv, env, labels and annotations hold user values

    def __init__(
        self,
        *,
        argv_spec: list,
        image: str,
        flowc_task_id: str = "0",
        foreach: bool = False,
        branch: bool = False,
        iteration: Optional[int] = None,
        run_if: Optional[list] = None,
        datastore: Optional[str] = None,
        flow_name: Optional[str] = None,
        step_name: Optional[str] = None,
        namespace: Optional[str] = None,
        service_account_name: Optional[str] = None,
        pod_resources: Optional[Dict[str, str]] = None,
        node_selector: Optional[Dict[str, str]] = None,
        tolerations: Optional[List[dict]] = None,
        secret_names: Optional[List[str]] = None,
        labels: Optional[Dict[str, str]] = None,
        annotations: Optional[Dict[str, str]] = None,
        image_pull_policy: Optional[str] = None,
        volumes: Optional[List[dict]] = None,
        volume_mounts: Optional[List[dict]] = None,
        env_vars: Optional[Dict[str, str]] = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.argv_spec = argv_spec
        self.image = image
        self.flowc_task_id = flowc_task_id
        self.foreach = foreach
        self.branch = branch
        self.iteration = iteration
        self.run_if = run_if or []
        self.datastore = datastore
        self.flow_name = flow_name
        self.step_name = step_name
        self.namespace = namespace
        self.service_account_name = service_account_name
        self.pod_resources = pod_resources or {}
        self.node_selector = node_selector
        self.tolerations = tolerations or []
        self.secret_names = secret_names or []
        self.labels = labels or {}
        self.annotations = annotations or {}
        self.image_pull_policy = image_pull_policy
        self.volumes = volumes or []
        self.volume_mounts = volume_mounts or []
        self.env_vars = env_vars or {}

    def pod_operator(self, argv: list):
        """The KubernetesPodOperator that runs `argv` (its fields hold finished values: nothing is templated).

        The kubelet expands `$(NAME)` and `$$` in the container's command, args and env values: each is
        escaped (kubelet_escape) so the step receives every argv item and env value byte for byte.
        """
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator  # slow: at run time only
        from airflow.providers.cncf.kubernetes.secret import Secret
        from kubernetes.client import models as k8s

        class FlowcPodOperator(KubernetesPodOperator):
            template_fields = ()  # never rendered, whoever calls render_template_fields: its fields hold user values

        return FlowcPodOperator(
            task_id=self.task_id,
            image=self.image,
            cmds=[kubelet_escape(item) for item in argv[:1]],
            arguments=[kubelet_escape(item) for item in argv[1:]],
            namespace=self.namespace,
            service_account_name=self.service_account_name,
            container_resources=k8s.V1ResourceRequirements(
                requests=dict(self.pod_resources), limits=dict(self.pod_resources)
            ),
            node_selector=self.node_selector,
            tolerations=[k8s.V1Toleration(**toleration) for toleration in self.tolerations],
            secrets=[Secret("env", None, name) for name in self.secret_names],
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            image_pull_policy=self.image_pull_policy,
            volumes=[
                k8s.V1Volume(name=volume["name"], empty_dir=k8s.V1EmptyDirVolumeSource(**volume["empty_dir"]))
                for volume in self.volumes
            ],
            volume_mounts=[k8s.V1VolumeMount(**mount) for mount in self.volume_mounts],
            env_vars={name: kubelet_escape(value) for name, value in self.env_vars.items()},
            base_container_name=BASE_CONTAINER,
            do_xcom_push=self.foreach,
            get_logs=True,
        )

    def execute(self, context):
        skip_unless_reached(self.run_if, context, self.task_id)
        argv = render_argv(self.argv_spec, context, self.flowc_task_id, self.iteration)
        self.running_pod_operator = self.pod_operator(argv)
        try:
            result = self.running_pod_operator.execute(context)
        except Exception as failure:
            exit_code = container_exit_code(getattr(self.running_pod_operator, "remote_pod", None))
            if exit_code in NOT_RETRIED:
                raise step_failed(self.task_id, self.flowc_task_id, exit_code) from failure
            raise
        if self.branch:  # the sidecar's XCom file must hold JSON, the runtime's --branch-out is plain text
            task = flowc_task_name(self.flowc_task_id, self.iteration)
            run_id = flowc_run_id(context["run_id"])
            return read_branch_choice(self.datastore, self.flow_name, run_id, self.step_name, task)
        if not self.foreach:
            return True  # "ran": the XCom a task below a conditional reads (should_run)
        check_map_length(result, self.task_id)
        return result

    def on_kill(self) -> None:
        running = getattr(self, "running_pod_operator", None)
        if running is not None:
            running.on_kill()
