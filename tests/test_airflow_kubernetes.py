"""The default Airflow DAG (FlowcKubernetesPodOperator) executed, not only imported.

`flowc deploy -t airflow`'s output for examples/linear.py (compiled with the code
package's URL, as deploy compiles it) runs with `dag.test()` in real Airflow 3;
its real KubernetesPodOperator (cncf.kubernetes provider, real `kubernetes`
client, through a kubeconfig) creates, follows, reads the logs of and deletes
each pod on tests/kubernetes_standin.py, which runs the pod's command as a local
process.  The pods fetch the package from moto's S3 and commit there; the
test reads the end artifacts back.  The flow has no foreach: the provider reads
a foreach's split list through an exec into its XCom sidecar, which the stand-in
does not implement.
"""

from __future__ import annotations

import json
import os
import sys

from conftest import AWS_TEST_ENV, EXAMPLES, run_flowc
from flowc.contract.layout import runs_key
from flowc.runtime.client import Run
from flowc.runtime.datastore import open_datastore
from kubernetes_standin import KubernetesStandIn
from test_airflow import _airflow_env, _helper, airflow_home  # noqa: F401 - the migrated Airflow home fixture


def test_the_default_airflow_dag_runs_its_pods_through_kubernetes(airflow_home, aws_env, tmp_path):  # noqa: F811
    import boto3

    home, _ = airflow_home
    boto3.client("s3").create_bucket(Bucket="flowc-airflow-pods")
    datastore = "s3://flowc-airflow-pods/x"
    package = run_flowc("package", str(EXAMPLES / "linear.py"), "--datastore", datastore)
    assert package.returncode == 0, package.stderr
    dags = tmp_path / "dags"
    dags.mkdir()
    compiled = run_flowc(
        "compile", str(EXAMPLES / "linear.py"), "-t", "airflow", "--datastore", datastore,
        "--package-url", package.stdout.strip(), "-o", str(dags / "linear.py"),
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps([{"file": str(dags / "linear.py"), "dag_id": "LinearFlow", "conf": {}, "env": {}}]))
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
        created = [path for verb, path in cluster.calls if verb == "POST"]
        containers = {
            pod["metadata"]["labels"]["task_id"]: pod["spec"]["containers"][0] for pod in cluster.created_pods
        }
        deleted = list(cluster.deleted)
        running = cluster.running()
    assert result["state"] == "success", (result, output[-4000:])
    assert result["tasks"] == {"start": ["success"], "transform": ["success"], "end": ["success"]}
    assert created == ["/api/v1/namespaces/default/pods"] * 3  # one pod per step, made by the provider
    # The pod's settings are the lowering's (flowc/compiler/lower/kubernetes.py), as Argo's: @resources here.
    assert containers["transform"]["resources"]["limits"] == {"cpu": "2", "memory": "8000Mi"}
    assert [kind for kind, _, _ in deleted] == ["pod"] * 3 and running == []  # each deleted when it finished
    (run_id,) = open_datastore(datastore).children(runs_key("LinearFlow"))  # the DAG run's id
    assert Run(f"LinearFlow/{run_id}", datastore=datastore)["end"].task.data.total == 385  # as `flowc run` computes
