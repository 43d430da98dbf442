"""Triggers on a real Airflow 3.3 (tests/airflow_server.py: api-server, scheduler, dag-processor on 127.0.0.1).

`flowc event publish -t airflow` updates the event's Asset through the REST API
and the scheduler starts the triggered DAG with the payload's fields as its
parameters; a run of the upstream DAG that succeeds starts the downstream one.
The DAGs run with --operator local (no Kubernetes here); the artifacts are read
back from the datastore.
"""

from __future__ import annotations

import shutil
import time

from conftest import EXAMPLES, run_flowc
from tests.airflow_server import airflow_server  # noqa: F401  (the fixture)


def compile_into(server, example: str, code, datastore) -> None:
    compiled = run_flowc(
        "compile",
        str(code / f"{example}.py"),
        "-t",
        "airflow",
        "--operator",
        "local",
        "--datastore",
        str(datastore),
        "-o",
        str(server.dags_folder / f"{example}.py"),
        env={"FLOWC_CODE_DIR": str(code)},
    )
    assert compiled.returncode == 0, compiled.stderr


def wait_for_first_run(server, dag_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        runs = server.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
        if runs:
            return server.wait_for_run(dag_id, runs[0]["dag_run_id"])
        assert time.monotonic() < deadline, f"no run of {dag_id} after {timeout_s} s:\n{server.log_tail()}"
        time.sleep(1)


def test_publish_starts_the_triggered_dag_with_the_payloads_parameters(airflow_server, tmp_path):  # noqa: F811
    code, datastore = tmp_path / "code", tmp_path / "datastore"
    shutil.copytree(EXAMPLES, code)
    compile_into(airflow_server, "trigger_event", code, datastore)
    airflow_server.wait_for_dag("TriggerEventFlow")
    env = {"FLOWC_AIRFLOW_USER": airflow_server.user, "FLOWC_AIRFLOW_PASSWORD": airflow_server.password}
    published = run_flowc(
        "event",
        "publish",
        "data.updated",
        "--payload",
        '{"table": "orders", "rows": 7}',
        "-t",
        "airflow",
        "--airflow-url",
        airflow_server.url,
        env=env,
    )
    assert published.returncode == 0, published.stderr
    assert "asset event" in published.stdout and "flowc://events/data.updated" in published.stdout
    run = wait_for_first_run(airflow_server, "TriggerEventFlow")
    assert run["state"] == "success" and run["run_type"] == "asset_triggered", run
    assert read_artifact(datastore, "TriggerEventFlow", "start", "summary") == "orders:7"


def test_a_succeeded_upstream_run_starts_the_downstream_dag(airflow_server, tmp_path):  # noqa: F811
    code, datastore = tmp_path / "code", tmp_path / "datastore"
    shutil.copytree(EXAMPLES, code)
    for example in ("trigger_upstream", "trigger_downstream"):
        compile_into(airflow_server, example, code, datastore)
    airflow_server.wait_for_dag("TriggerUpstreamFlow")
    airflow_server.wait_for_dag("TriggerDownstreamFlow")
    started = airflow_server.api(
        "POST", "/dags/TriggerUpstreamFlow/dagRuns", {"logical_date": None, "conf": {"size": 2}}
    )
    upstream = airflow_server.wait_for_run("TriggerUpstreamFlow", started["dag_run_id"])
    assert upstream["state"] == "success", upstream
    downstream = wait_for_first_run(airflow_server, "TriggerDownstreamFlow")
    assert downstream["state"] == "success" and downstream["run_type"] == "asset_triggered", downstream


def test_publish_names_an_event_no_dag_listens_to(airflow_server):  # noqa: F811
    env = {"FLOWC_AIRFLOW_USER": airflow_server.user, "FLOWC_AIRFLOW_PASSWORD": airflow_server.password}
    result = run_flowc(
        "event", "publish", "nobody.listens", "-t", "airflow", "--airflow-url", airflow_server.url, env=env
    )
    assert result.returncode == 2 and result.stderr.startswith(
        "error: Airflow has no Asset flowc://events/nobody.listens"
    )


def read_artifact(datastore, flow: str, step: str, name: str):
    """The artifact of the only run of `flow` in `datastore`."""
    import json

    from flowc.runtime.artifacts import ArtifactSource
    from flowc.runtime.datastore import open_datastore

    (run_dir,) = (datastore / flow / "runs").iterdir()
    store = open_datastore(str(datastore))
    meta = json.loads((run_dir / step / "0" / "meta.json").read_text())
    return ArtifactSource(store, flow, meta["artifacts"]).load(name)
