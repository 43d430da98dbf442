"""`flowc run --kubernetes`: the local runner runs @kubernetes steps as Kubernetes Jobs; the rest stay local.

Each task is one Job (backoffLimit 0: `@retry` is the runner's loop, one Job per
attempt) whose pod is the one Argo and Airflow emit, from the same lowering
(flowc/compiler/lower/kubernetes.py `pod`): image, resources (requests equal
limits), node selector, tolerations, labels, annotations, service account,
secrets as `envFrom`, @environment, shared memory; `@timeout` is the Job's
`activeDeadlineSeconds`.  Its container runs the runtime argv (with `--package`,
the code package the run uploaded), escaped for the kubelet's `$(VAR)`
expansion as Argo's is.  The Job goes to the step's namespace, else the
`namespace` setting ([tool.flowc.argo], FLOWC_NAMESPACE), else `default`,
through the official `kubernetes` client with the kubeconfig (KUBECONFIG,
~/.kube/config) or, inside a cluster, its service account.  The runner polls
the Job with backoff, echoes the pod's log lines, names the usual failures
(image pull, OOMKilled, deadline) in one line, and deletes the Job (and its
pod) when the run is interrupted.
"""

from __future__ import annotations

import os
import re
import threading

from flowc.compiler.lower import kubernetes as k8s
from flowc.contract.command import EXIT_FAILED, EXIT_LAUNCH, EXIT_OK
from flowc.local.processes import TIMEOUT_GRACE_SECONDS, TIMED_OUT
from flowc.local.remote_jobs import LogTail, RemoteJobs, poll_delays

BACKEND = "kubernetes"
DEFAULT_NAMESPACE = "default"
CONTAINER_NAME = "main"
JOB_NAME_LABEL = "job-name"  # set by the Job controller on the Job's pods
# A pod that waits for one of these will not start by itself: the task fails now, not at its deadline.
STUCK_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError")


def kubernetes_problems(steps, options) -> list[str]:
    """Why these @kubernetes steps cannot be run as Jobs from here (usage errors); [] when they can."""
    try:
        import kubernetes  # noqa: F401 - only to say it is missing, here rather than mid-run
    except ImportError:
        return ["--kubernetes needs the `kubernetes` Python client: pip install kubernetes"]
    if not steps:
        return []
    try:
        api_client()
    except Exception as exc:  # noqa: BLE001 - the client's ConfigException, a bad kubeconfig file
        return [f"--kubernetes: no usable Kubernetes configuration (KUBECONFIG, ~/.kube/config or in-cluster): {exc}"]
    return []


def api_client():
    """The `kubernetes` client's ApiClient: the kubeconfig's current context, else the in-cluster service account."""
    # the Kubernetes client (~0.5 s) only for runs that launch @kubernetes steps
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_kube_config(client_configuration=configuration)
    except (config.ConfigException, OSError):
        config.load_incluster_config(client_configuration=configuration)
    return client.ApiClient(configuration)


def job_name(step_name: str, task_id: str) -> str:
    """A fresh Job name: a DNS label (its pods carry it as a label value, so at most 63 characters)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", f"{step_name}-{task_id}".lower()).strip("-")[:40].strip("-")
    return f"flowc-{slug}-{os.urandom(4).hex()}"


def failure_message(pod_status, job_status) -> str:
    """One line saying why the Job's pod failed."""
    for condition in (job_status.conditions or []) if job_status is not None else []:
        if condition.type == "Failed" and condition.reason == "DeadlineExceeded":
            return "Kubernetes stopped the Job at its @timeout (activeDeadlineSeconds)"
    state = _container_state(pod_status)
    if state is not None and state.waiting is not None and state.waiting.reason in STUCK_REASONS:
        return (
            f"the pod cannot start ({state.waiting.reason}): check the image name and the namespace's "
            f"image pull secrets ({state.waiting.message or 'no message'})"
        )
    terminated = state.terminated if state is not None else None
    if terminated is not None and terminated.reason == "OOMKilled":
        return "the pod ran out of memory (OOMKilled): raise @resources(memory=...) or @kubernetes(memory=...)"
    if terminated is not None:
        return f"the pod's container exited {terminated.exit_code}" + (
            f" ({terminated.reason})" if terminated.reason else ""
        )
    return "the Job failed before its pod ran"


def _container_state(pod_status):
    for status in (pod_status.container_statuses or []) if pod_status is not None else []:
        if status.name == CONTAINER_NAME:
            return status.state
    return None


class KubernetesSteps:
    """The @kubernetes steps of one run: their Jobs, in their namespaces."""

    def __init__(self, flow, options, jobs: RemoteJobs, show_output: bool):
        self.flow, self.options, self.jobs, self.show_output = flow, options, jobs, show_output
        self._apis = None
        self._lock = threading.Lock()

    def launches(self, step) -> bool:
        return step.compute.backend == BACKEND

    def namespace(self, step) -> str:
        return k8s.pod(step, self.options).namespace or DEFAULT_NAMESPACE

    def describe(self, step) -> str:
        return f"as a Kubernetes Job in namespace {self.namespace(step)}"

    def apis(self):
        """(BatchV1Api, CoreV1Api), made once per run."""
        from kubernetes import client

        with self._lock:
            if self._apis is None:
                shared = api_client()
                self._apis = client.BatchV1Api(shared), client.CoreV1Api(shared)
            return self._apis

    def job(self, step, name: str, argv: list[str], timeout_seconds: int | None):
        """The Job manifest: the pod Argo's template describes, as the `kubernetes` client's models."""
        from kubernetes import client as c

        pod = k8s.pod(step, self.options)
        container = c.V1Container(
            name=CONTAINER_NAME,
            image=pod.image,
            command=[k8s.kubelet_literal(item) for item in argv],
            env=[c.V1EnvVar(name=k, value=k8s.kubelet_literal(v)) for k, v in step.environment] or None,
            env_from=[c.V1EnvFromSource(secret_ref=c.V1SecretEnvSource(name=s)) for s in pod.secrets] or None,
            image_pull_policy=pod.image_pull_policy,
            resources=c.V1ResourceRequirements(requests=dict(pod.resources), limits=dict(pod.resources)),
            volume_mounts=[c.V1VolumeMount(**mount) for mount in pod.volume_mounts] or None,
        )
        volumes = [
            c.V1Volume(name=v["name"], empty_dir=c.V1EmptyDirVolumeSource(**v["empty_dir"])) for v in pod.volumes
        ]
        spec = c.V1PodSpec(
            restart_policy="Never",
            containers=[container],
            service_account_name=pod.service_account,
            node_selector=pod.node_selector or None,
            tolerations=[c.V1Toleration(**t) for t in pod.tolerations] or None,
            volumes=volumes or None,
        )
        metadata = c.V1ObjectMeta(labels=pod.labels or None, annotations=pod.annotations or None)
        deadline = timeout_seconds + TIMEOUT_GRACE_SECONDS if timeout_seconds else None  # the runtime stops first
        return c.V1Job(
            api_version="batch/v1",
            kind="Job",
            metadata=c.V1ObjectMeta(name=name, labels=pod.labels or None, annotations=pod.annotations or None),
            spec=c.V1JobSpec(
                backoff_limit=0,
                active_deadline_seconds=deadline,
                template=c.V1PodTemplateSpec(metadata=metadata, spec=spec),
            ),
        )

    def run(self, step, task_id: str, argv: list[str], prefix: str, timeout_seconds: int | None):
        """Run one attempt as a Job and wait for its end: (exit code, last log lines) as a local task gives."""
        from kubernetes.client.exceptions import ApiException  # with the client, only for Kubernetes runs
        from urllib3.exceptions import HTTPError  # the API server unreachable: the client's transport raises it

        api_errors = (ApiException, HTTPError, OSError)

        tail = LogTail(prefix, self.jobs.echo, self.show_output)
        namespace, name = self.namespace(step), job_name(step.name, task_id)
        try:
            jobs_api, _ = self.apis()
            jobs_api.create_namespaced_job(namespace, self.job(step, name, argv, timeout_seconds))
        except api_errors as exc:
            tail.lines.append(
                f"flowc: could not create the Kubernetes Job for step '{step.name}' task {task_id}: {exc}"
            )
            return EXIT_LAUNCH, tail.lines
        self.jobs.echo(f"{prefix}created Kubernetes Job {namespace}/{name}")
        key, ended, code = self.jobs.follow(
            f"Kubernetes Job {namespace}/{name} ({step.name}/{task_id})",
            lambda: self.delete(namespace, name),
            lambda: self.wait(namespace, name, tail),
            api_errors,
            tail.lines,
        )
        if code is not None:
            return code, tail.lines
        succeeded, pod_status, job_status = ended
        if succeeded:
            self.jobs.forget(key)
            return EXIT_OK, tail.lines
        self.jobs.cancel(key)  # a failed Job's pod may still be waiting (an image that cannot be pulled)
        message = failure_message(pod_status, job_status)
        tail.lines.append(f"flowc: step '{step.name}' task {task_id}: {message}")
        if "activeDeadlineSeconds" in message:
            return TIMED_OUT, tail.lines
        state = _container_state(pod_status)
        code = state.terminated.exit_code if state is not None and state.terminated is not None else None
        return (code if isinstance(code, int) and code != 0 else EXIT_FAILED), tail.lines

    def wait(self, namespace: str, name: str, tail: LogTail):
        """Poll until the Job ends, echoing its pod's new log lines: (succeeded, pod status, Job status), or
        None when the run is interrupted first."""
        jobs_api, pods_api = self.apis()
        shown = 0
        for delay in poll_delays():
            if self.jobs.stopping.wait(delay):
                return None
            job = jobs_api.read_namespaced_job_status(name, namespace)
            pods = pods_api.list_namespaced_pod(namespace, label_selector=f"{JOB_NAME_LABEL}={name}").items
            pod = pods[0] if pods else None
            if pod is not None and pod.status is not None and pod.status.phase not in (None, "Pending"):
                # The raw body: the client's own decoding of a text response gives the repr of its bytes.
                response = pods_api.read_namespaced_pod_log(
                    pod.metadata.name, namespace, container=CONTAINER_NAME, _preload_content=False
                )
                lines = response.data.decode("utf-8", "replace").splitlines()
                for line in lines[shown:]:
                    tail.add(line)
                shown = max(shown, len(lines))
            status = job.status
            pod_status = pod.status if pod is not None else None
            if status is not None and (status.succeeded or 0) > 0:
                return True, pod_status, status
            if status is not None and (status.failed or 0) > 0:
                return False, pod_status, status
            state = _container_state(pod_status)
            if state is not None and state.waiting is not None and state.waiting.reason in STUCK_REASONS:
                return False, pod_status, status
        raise AssertionError("unreachable")

    def delete(self, namespace: str, name: str) -> None:
        """Delete the Job and, with it, its pods (Background: the pods go at once, not after the Job)."""
        jobs_api, _ = self.apis()
        jobs_api.delete_namespaced_job(name, namespace, propagation_policy="Background")
