"""`flowc run --kubernetes`: @kubernetes steps as Kubernetes Jobs, the rest local, artifacts through S3.

The real `kubernetes` client (through a kubeconfig) against
tests/kubernetes_standin.py (the API server on 127.0.0.1; each pod's command a
local process) and moto's S3 server, with the real `flowc` CLI in a subprocess.
The flow is examples/hybrid.py with its heavy step's @batch made @kubernetes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import AWS_TEST_ENV, EXAMPLES, run_flowc
from flowc.runtime.client import Run
from kubernetes_standin import KubernetesStandIn

NAMESPACE = "flows"
PLACEMENT = (
    "@kubernetes(node_selector={'pool': 'heavy'}, tolerations=[{'key': 'heavy', 'operator': 'Exists'}], "
    "service_account='runner', secrets=['s3-creds'], labels={'team': 'ml'})"
)
HYBRID_TOTAL = 8995500500  # as a fully local run of examples/hybrid.py computes it (tests/test_runner.py)


@pytest.fixture
def cluster(aws_env, tmp_path):
    """(the stand-in, env for `flowc run`): pods get what the image gives them; S3 credentials come from a Secret."""
    pod_env = dict(
        AWS_ENDPOINT_URL=aws_env["AWS_ENDPOINT_URL"],
        AWS_DEFAULT_REGION=AWS_TEST_ENV["AWS_DEFAULT_REGION"],
        PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),  # the image's `python`
        HOME=str(tmp_path),
        FLOWC_PACKAGE_CACHE=str(tmp_path / "pod-packages"),
    )
    secret = {k: v for k, v in AWS_TEST_ENV.items() if k != "AWS_DEFAULT_REGION"}
    with KubernetesStandIn(pod_env, {(NAMESPACE, "s3-creds"): secret}) as standin:
        env = {"KUBECONFIG": standin.kubeconfig(tmp_path / "kubeconfig"), "FLOWC_NAMESPACE": NAMESPACE}
        yield standin, env


@pytest.fixture
def bucket(aws_env, request):
    import boto3

    name = "flowc-k8s-" + request.node.name.replace("_", "-").lower()[:40].strip("-")
    boto3.client("s3").create_bucket(Bucket=name)
    return f"s3://{name}/x"


@pytest.fixture
def flow_file(tmp_path):
    source = (EXAMPLES / "hybrid.py").read_text()
    assert source.count("    @batch\n") == 1
    path = tmp_path / "hybrid.py"
    path.write_text(source.replace("    @batch\n", f"    {PLACEMENT}\n").replace("batch,", "kubernetes,"))
    return str(path)


def test_kubernetes_steps_run_as_jobs_the_rest_locally_same_artifacts(cluster, bucket, flow_file):
    standin, env = cluster
    result = run_flowc(
        "run", flow_file, "--kubernetes", "--datastore", bucket, "--max-workers", "2", "--run-id", "k1", env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = standin.job_manifests()
    assert len(jobs) == 3  # one Job per foreach split of the heavy step; start, join and end ran locally
    assert {job["metadata"]["namespace"] for job in jobs} == {NAMESPACE}
    spec = jobs[0]["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    # The pod Argo's template describes (flowc/compiler/lower/kubernetes.py), through the client's models.
    assert container["resources"] == {
        "limits": {"cpu": "2", "memory": "8192Mi"},
        "requests": {"cpu": "2", "memory": "8192Mi"},
    }
    assert pod["nodeSelector"] == {"pool": "heavy"}
    assert pod["tolerations"] == [{"key": "heavy", "operator": "Exists"}]
    assert pod["serviceAccountName"] == "runner" and pod["restartPolicy"] == "Never"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert spec["template"]["metadata"]["labels"] == {"team": "ml"}
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 605
    command = container["command"]
    assert command[:2] == ["python", "-c"] and command[command.index("--package") + 1].startswith(bucket)
    assert "[score/1] scored part 1" in result.stdout
    assert Run("HybridFlow/k1", datastore=bucket)["end"].task.data.total == HYBRID_TOTAL
    assert standin.running() == []


def test_with_kubernetes_sends_every_step(cluster, bucket):
    standin, env = cluster
    # examples/linear.py: no compute decorator, so --with kubernetes attaches @kubernetes to every step.
    env = dict(env, FLOWC_NAMESPACE="default")
    standin.base_env.update(AWS_TEST_ENV)  # no @kubernetes(secrets=...) here: the image's credentials
    result = run_flowc(
        "run", str(EXAMPLES / "linear.py"), "--with", "kubernetes", "--datastore", bucket, "--quiet", env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = (EXAMPLES / "linear.py").read_text().count("@step")
    assert len(standin.job_manifests()) == steps


def test_no_kubernetes_configuration_is_a_usage_error(cluster, bucket, flow_file, tmp_path):
    _, env = cluster
    env = dict(env, KUBECONFIG=str(tmp_path / "missing"), HOME=str(tmp_path))
    result = run_flowc("run", flow_file, "--kubernetes", "--datastore", bucket, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no usable Kubernetes configuration" in result.stderr and "Traceback" not in result.stderr


def test_a_local_datastore_with_kubernetes_steps_is_a_usage_error(cluster, flow_file, tmp_path):
    _, env = cluster
    result = run_flowc("run", flow_file, "--kubernetes", "--datastore", str(tmp_path / "ds"), env=env)
    assert result.returncode == 2
    assert "--kubernetes needs an s3:// datastore" in result.stderr


SLEEPY = """
import time

from flowc import FlowSpec, kubernetes, step


class SleepyFlow(FlowSpec):
    @kubernetes(image=IMAGE)
    @step
    def start(self):
        print("sleeping", flush=True)
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_pod_that_cannot_start_is_one_named_line(cluster, bucket, tmp_path):
    standin, env = cluster
    flow = tmp_path / "sleepy.py"
    flow.write_text(SLEEPY.replace("IMAGE", "'example/unpullable:1'"))
    result = run_flowc("run", str(flow), "--kubernetes", "--datastore", bucket, "--quiet", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the pod cannot start (ErrImagePull)" in result.stdout
    assert [kind for kind, _, _ in standin.deleted] == ["job"]  # a Job that cannot start is not left behind


def test_interrupting_the_run_deletes_its_jobs(cluster, bucket, tmp_path):
    standin, env = cluster
    flow = tmp_path / "sleepy.py"
    flow.write_text(SLEEPY.replace("IMAGE", "'python:3.11-slim'"))
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc.cli", "run", str(flow), "--kubernetes", "--datastore", bucket],
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 60
    while not standin.running() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert standin.running(), "the pod never started"
    (name,) = [job["metadata"]["name"] for job in standin.job_manifests()]
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert standin.deleted == [("job", NAMESPACE, name)]
    assert standin.running() == [] and standin.jobs == {}
    assert f"cancelled Kubernetes Job {NAMESPACE}/{name}" in output


def _state(**state):
    from kubernetes.client import V1ContainerState, V1ContainerStateTerminated, V1ContainerStateWaiting

    waiting, terminated = state.get("waiting"), state.get("terminated")
    return V1ContainerState(
        waiting=V1ContainerStateWaiting(**waiting) if waiting else None,
        terminated=V1ContainerStateTerminated(**terminated) if terminated else None,
    )


@pytest.mark.parametrize(
    "state, condition, expected",
    [
        ({"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}, None, "the pod cannot start"),
        ({"terminated": {"exit_code": 137, "reason": "OOMKilled"}}, None, "ran out of memory (OOMKilled)"),
        ({"terminated": {"exit_code": 137}}, "DeadlineExceeded", "stopped the Job at its @timeout"),
        ({"terminated": {"exit_code": 4, "reason": "Error"}}, None, "exited 4 (Error)"),
    ],
    ids=["image", "oom", "deadline", "exit"],
)
def test_kubernetes_failure_reasons_are_named(state, condition, expected):
    from kubernetes.client import V1ContainerStatus, V1JobCondition, V1JobStatus, V1PodStatus

    from flowc.local.kubernetes import failure_message

    status = V1ContainerStatus(name="main", image="i", image_id="", ready=False, restart_count=0, state=_state(**state))
    conditions = [V1JobCondition(type="Failed", status="True", reason=condition)] if condition else None
    message = failure_message(V1PodStatus(container_statuses=[status]), V1JobStatus(conditions=conditions))
    assert expected in message


def test_an_unreachable_api_server_fails_the_task_in_one_line(cluster, bucket, tmp_path):
    standin, env = cluster
    flow = tmp_path / "sleepy.py"
    flow.write_text(SLEEPY.replace("IMAGE", "'python:3.11-slim'"))
    standin.server.shutdown()  # configured when the run starts, gone when its step is sent
    standin.server.server_close()
    result = run_flowc("run", str(flow), "--kubernetes", "--datastore", bucket, "--quiet", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not create the Kubernetes Job for step 'start' task 0" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
