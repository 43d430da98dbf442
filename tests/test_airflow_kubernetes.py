"""The default Airflow DAG (FlowcKubernetesPodOperator) executed, not only imported.

`flowc deploy -t airflow`'s output for examples/linear.py (compiled with the code
package's URL, as deploy compiles it) runs with `dag.test()` in real Airflow 3;
its real KubernetesPodOperator (cncf.kubernetes provider, real `kubernetes`
client, through a kubeconfig) creates, follows, reads the logs of and deletes
each pod on tests/kubernetes_standin.py, which runs the pod's command as a local
process.  The pods fetch the package from moto's S3 and commit there; the
test reads the end artifacts back.  The flow has no foreach: the provider reads
a foreach's split list through an exec into its XCom sidecar, which the stand-in
does not implement.  run_on_kubernetes is shared with
tests/test_airflow_kubernetes_conditional.py.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import AWS_TEST_ENV, EXAMPLES, run_flowc
from flowc.contract.layout import runs_key
from flowc.runtime.client import Run
from flowc.runtime.datastore import open_datastore
from kubernetes_standin import KubernetesStandIn
from test_airflow import _airflow_env, _helper, airflow_home  # noqa: F401 - the migrated Airflow home fixture


@dataclass
class KubernetesRun:
    """One DAG run's outcome on the stand-in cluster, and what the cluster saw of it."""

    result: dict  # tests/airflow_helpers.py run's: the DAG run's state and each task's states
    output: str  # the Airflow subprocess's stdout + stderr, for failure messages
    created: list  # the paths the provider POSTed (one per pod)
    containers: dict  # task id -> the pod's first container spec
    deleted: list  # (kind, namespace, name) per DELETE
    running: list  # pods still running when the run ended
    datastore: str

    def end_run(self, flow_name: str) -> Run:
        """The flowc run the DAG run made (its id is the DAG run's), read from the datastore."""
        (run_id,) = open_datastore(self.datastore).children(runs_key(flow_name))
        return Run(f"{flow_name}/{run_id}", datastore=self.datastore)


def run_on_kubernetes(
    example: Path, dag_id: str, conf: dict, home: Path, aws_env: dict, tmp_path: Path
) -> KubernetesRun:
    """Package and compile `example` as deploy does, and run its default DAG once with `dag.test(conf)`."""
    import boto3  # moto's S3: the package and the datastore

    bucket = "flowc-airflow-pods"
    s3 = boto3.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    datastore = f"s3://{bucket}/{tmp_path.name}"  # one prefix per test: each reads back only its own run
    package = run_flowc("package", str(example), "--datastore", datastore)
    assert package.returncode == 0, package.stderr
    dags = tmp_path / "dags"
    dags.mkdir()
    compiled = run_flowc(
        "compile", str(example), "-t", "airflow", "--datastore", datastore,
        "--package-url", package.stdout.strip(), "-o", str(dags / example.name),
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps([{"file": str(dags / example.name), "dag_id": dag_id, "conf": conf, "env": {}}]))
    pod_env = dict(
        AWS_TEST_ENV,
        AWS_ENDPOINT_URL=aws_env["AWS_ENDPOINT_URL"],
        PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),  # the image's `python`
        HOME=str(tmp_path),
        FLOWC_PACKAGE_CACHE=str(tmp_path / "pod-packages"),
    )
    with KubernetesStandIn(pod_env) as cluster:
        env = dict(_airflow_env(home, dags), KUBECONFIG=cluster.kubeconfig(tmp_path / "kubeconfig"))
        (result,), output = _helper("run", str(spec), env, timeout=300)
        return KubernetesRun(
            result=result,
            output=output,
            created=[path for verb, path in cluster.calls if verb == "POST"],
            containers={
                pod["metadata"]["labels"]["task_id"]: pod["spec"]["containers"][0] for pod in cluster.created_pods
            },
            deleted=list(cluster.deleted),
            running=cluster.running(),
            datastore=datastore,
        )


def test_the_default_airflow_dag_runs_its_pods_through_kubernetes(airflow_home, aws_env, tmp_path):  # noqa: F811
    home, _ = airflow_home
    run = run_on_kubernetes(EXAMPLES / "linear.py", "LinearFlow", {}, home, aws_env, tmp_path)
    assert run.result["state"] == "success", (run.result, run.output[-4000:])
    assert run.result["tasks"] == {"start": ["success"], "transform": ["success"], "end": ["success"]}
    assert run.created == ["/api/v1/namespaces/default/pods"] * 3  # one pod per step, made by the provider
    # The pod's settings are the lowering's (flowc/compiler/lower/kubernetes.py), as Argo's: @resources here.
    assert run.containers["transform"]["resources"]["limits"] == {"cpu": "2", "memory": "8000Mi"}
    assert [kind for kind, _, _ in run.deleted] == ["pod"] * 3 and run.running == []  # each deleted when it finished
    assert run.end_run("LinearFlow")["end"].task.data.total == 385  # as `flowc run` computes
