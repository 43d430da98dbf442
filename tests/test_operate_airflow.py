"""`flowc deploy / trigger / status / logs -t airflow` against a real Airflow 3 on 127.0.0.1 (tests/airflow_server.py).

The DAG is deployed with `--operator local` (each task a local process: no
Kubernetes cluster runs here) into the server's dags folder; the dag-processor
parses it, `flowc trigger` creates the run through the REST API with a login
through POST /auth/token, the scheduler runs it with the LocalExecutor, and
`flowc status` shows Airflow's states beside the datastore's.
"""

from __future__ import annotations

import json
import sys
import time

import pytest
from conftest import run_flowc

from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.deploy import airflow_runs

FLOW = '''from flowc import FlowSpec, JSONType, Parameter, step


class OperatedFlow(FlowSpec):
    epochs = Parameter("epochs", type=int, default=1)
    rate = Parameter("rate", type=float, default=0.5)
    verbose = Parameter("verbose", type=bool, default=False)
    shape = Parameter("shape", type=JSONType, default={"n": 1})
    fail_in_end = Parameter("fail-in-end", type=bool, default=False)

    @step
    def start(self):
        self.seen = [self.epochs, self.rate, self.verbose, self.shape]
        self.next(self.end)

    @step
    def end(self):
        print("seen", self.seen)
        if self.fail_in_end:
            raise RuntimeError("asked to fail")
'''


@pytest.fixture(scope="module")
def deployed(airflow_server, tmp_path_factory):
    """OperatedFlow deployed into the running Airflow's dags folder, parsed and unpaused."""
    work = tmp_path_factory.mktemp("operate_airflow")
    flow = work / "operated.py"
    flow.write_text(FLOW)
    datastore = work / "datastore"
    common = ["-t", "airflow", "--operator", "local", "--python", sys.executable, "--datastore", str(datastore)]
    result = run_flowc("deploy", str(flow), *common, "--dags-folder", str(airflow_server.dags_folder))
    assert result.returncode == 0, result.stderr
    airflow_server.wait_for_dag("OperatedFlow")
    env = {"FLOWC_AIRFLOW_PASSWORD": airflow_server.password}
    login = ["--airflow-url", airflow_server.url, "--airflow-user", airflow_server.user]
    return {"flow": flow, "datastore": datastore, "common": common, "env": env, "login": login}


def deployed_request(airflow_server, deployed):
    from flowc.compiler.options import Options
    from flowc.deploy import DeployRequest

    return DeployRequest(
        flow_path=str(deployed["flow"]),
        target="airflow",
        options=Options(datastore=str(deployed["datastore"])),
        airflow_url=airflow_server.url,
        airflow_token=airflow_server.token(),
        echo=lambda line: None,
    )


def trigger(deployed, *params):
    args = [f"--param={p}" for p in params]
    result = run_flowc(
        "trigger", str(deployed["flow"]), *deployed["common"], *deployed["login"], *args, env=deployed["env"]
    )
    return result


def status(deployed, run_id, airflow_server):
    return run_flowc(
        "status",
        f"OperatedFlow/{run_id}",
        "--datastore",
        str(deployed["datastore"]),
        "--flow",
        str(deployed["flow"]),
        "-t",
        "airflow",
        *deployed["login"],
        env=deployed["env"],
    )


def test_trigger_runs_with_typed_parameters_and_status_shows_both_views(airflow_server, deployed):
    triggered = trigger(deployed, "epochs=3", "rate=0.25", "verbose=yes", 'shape={"n": [1, 2]}')
    assert triggered.returncode == 0, triggered.stderr
    run_id = triggered.stdout.strip().splitlines()[-1]
    run = airflow_server.wait_for_run("OperatedFlow", run_id)
    # the dag run carries the id flowc chose and the typed conf the DAG's Params validate
    assert run["dag_run_id"] == run_id and run["triggered_by"] == "rest_api"
    assert run["conf"] == {"epochs": 3, "rate": 0.25, "verbose": True, "shape": {"n": [1, 2]}}
    assert run["state"] == "success", airflow_server.log_tail(40)
    # the tasks wrote under the printed run id, with the values the start step received
    shown = run_flowc("show", f"OperatedFlow/{run_id}", "--datastore", str(deployed["datastore"]))
    assert shown.returncode == 0, shown.stderr
    assert [line.split()[:3] for line in shown.stdout.splitlines()[1:]] == [["start", "0", "ok"], ["end", "0", "ok"]]
    logs = run_flowc("logs", f"OperatedFlow/{run_id}/end", "--datastore", str(deployed["datastore"]))
    assert "seen [3, 0.25, True, {'n': [1, 2]}]" in logs.stdout, logs.stdout + logs.stderr
    seen = status(deployed, run_id, airflow_server)
    assert seen.returncode == 0, seen.stderr
    lines = seen.stdout.splitlines()
    assert (
        lines[0] == f"OperatedFlow/{run_id}  datastore: started by an orchestrator (its status is the orchestrator's)"
    )
    assert lines[1].startswith(f"  airflow: success  (OperatedFlow/{run_id})")
    start = next(line for line in lines if line.lstrip().startswith("start "))
    assert "datastore: 0 ok" in start and "airflow: start success" in start, seen.stdout


def test_a_failed_run_shows_the_failed_task_on_both_sides(airflow_server, deployed):
    triggered = trigger(deployed, "fail-in-end=true")
    assert triggered.returncode == 0, triggered.stderr
    run_id = triggered.stdout.strip().splitlines()[-1]
    assert airflow_server.wait_for_run("OperatedFlow", run_id)["state"] == "failed"
    seen = status(deployed, run_id, airflow_server)
    assert seen.returncode == 0, seen.stderr
    end = next(line for line in seen.stdout.splitlines() if line.lstrip().startswith("end "))
    assert "failed" in end.split("|")[0] and "airflow: end failed" in end, seen.stdout


def test_a_run_airflow_has_not_started_is_visible_as_never_started(airflow_server, deployed):
    """Paused DAG: the run is queued at Airflow and nothing is in the datastore; status says so."""
    airflow_server.api("PATCH", "/dags/OperatedFlow", {"is_paused": True})
    try:
        triggered = trigger(deployed)
        assert triggered.returncode == 0, triggered.stderr
        assert "is paused" in triggered.stdout
        run_id = triggered.stdout.strip().splitlines()[-1]
        seen = status(deployed, run_id, airflow_server)
        assert seen.returncode == 0, seen.stderr
        assert "datastore: no record of this run (no task has started)" in seen.stdout
        assert "airflow: queued" in seen.stdout
        # what `flowc resume -t airflow` sends: the origin as a conf key beside the parameters
        resumed = airflow_runs.trigger(deployed_request(airflow_server, deployed), {"epochs": "2"}, "OperatedFlow-old")
        conf = airflow_server.api("GET", f"/dags/OperatedFlow/dagRuns/{resumed}")["conf"]
        assert conf == {"epochs": 2, ORIGIN_RUN_INPUT: "OperatedFlow-old"}
        logs = run_flowc(
            "logs",
            f"OperatedFlow/{run_id}/start",
            "--datastore",
            str(deployed["datastore"]),
            "--flow",
            str(deployed["flow"]),
            "-t",
            "airflow",
            *deployed["login"],
            env=deployed["env"],
        )
        assert logs.returncode == 0, logs.stderr
        assert "no task has started" in logs.stdout
    finally:
        airflow_server.api("PATCH", "/dags/OperatedFlow", {"is_paused": False})


@pytest.mark.parametrize(
    "param, named",
    [
        ("epochs=three", "--param epochs: expected int, got 'three'"),
        ("verbose=maybe", "--param verbose: expected bool"),
        ("shape={nope", "--param shape: expected JSON"),
        ("rate=nan", "--param rate: expected float"),
        ("bogus=1", "unknown parameter(s) bogus"),
    ],
)
def test_a_bad_parameter_is_exit_2_before_any_request(deployed, param, named):
    """No Airflow is asked: the URL points at a closed port, and the error is the parameter's."""
    result = run_flowc(
        "trigger",
        str(deployed["flow"]),
        *deployed["common"],
        "--airflow-url",
        "http://127.0.0.1:9",
        "--airflow-token",
        "unused",
        f"--param={param}",
    )
    assert result.returncode == 2 and named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "127.0.0.1:9" not in result.stderr


def test_trigger_of_a_dag_airflow_does_not_have_names_the_cause(airflow_server, deployed):
    result = run_flowc(
        "trigger",
        str(deployed["flow"]),
        *deployed["common"],
        *deployed["login"],
        "--name",
        "NotDeployed",
        env=deployed["env"],
    )
    assert result.returncode == 2 and "has no DAG NotDeployed" in result.stderr, result.stderr


def test_a_wrong_password_is_one_line(airflow_server, deployed):
    result = run_flowc(
        "trigger",
        str(deployed["flow"]),
        *deployed["common"],
        *deployed["login"],
        env={"FLOWC_AIRFLOW_PASSWORD": "wrong"},
    )
    assert result.returncode == 2 and "/auth/token: HTTP 401" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and json.dumps("wrong") not in result.stderr


# ---------------------------------------------------------------------------
# Issue 16's "Done when", end to end on a real Airflow 3.3 (tests/airflow_server.py: api-server, scheduler,
# dag-processor on 127.0.0.1), as a user would do it with flowc's commands only:
#
# deploy a pair of flows where the second runs when the first finishes (@trigger_on_finish, an Asset);
# trigger the first with a parameter; its first run fails at a step; `flowc status` shows it on both
# sides; `flowc resume RUN -t airflow` starts a new Airflow run that reuses the finished tasks (proven
# from the task records: copied, not run); that run's success starts the second flow, whose status
# is watched the same way.  The DAGs use --operator local (no Kubernetes runs here).


UPSTREAM = '''from flowc import FlowSpec, Parameter, step


class ScenarioUpFlow(FlowSpec):
    size = Parameter("size", type=int, default=1)

    @step
    def start(self):
        self.items = list(range(self.size))
        self.next(self.check)

    @step
    def check(self):
        import os

        if os.path.exists({marker!r}):  # the first run fails here; the fix is to remove the marker
            raise RuntimeError("the input is not ready")
        self.total = sum(self.items)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)
'''

DOWNSTREAM = '''from flowc import FlowSpec, step, trigger_on_finish


@trigger_on_finish(flow="ScenarioUpFlow")
class ScenarioDownFlow(FlowSpec):
    @step
    def start(self):
        self.note = "ran after the upstream"
        self.next(self.end)

    @step
    def end(self):
        print(self.note)
'''


def _runs(server, dag_id: str) -> list[dict]:
    return server.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]


def _meta(datastore, flow: str, run_id: str, step: str) -> dict:
    return json.loads((datastore / flow / "runs" / run_id / step / "0" / "meta.json").read_text())


def test_deploy_a_pair_trigger_watch_and_resume_on_airflow(airflow_server, tmp_path):
    datastore, marker = tmp_path / "datastore", tmp_path / "not-ready"
    marker.write_text("")
    up, down = tmp_path / "up.py", tmp_path / "down.py"
    up.write_text(UPSTREAM.replace("{marker!r}", repr(str(marker))))
    down.write_text(DOWNSTREAM)
    where = ["-t", "airflow", "--datastore", str(datastore)]  # what status and resume take
    common = [*where, "--operator", "local", "--python", sys.executable]  # deploy and trigger compile too
    login = ["--airflow-url", airflow_server.url]
    env = {"FLOWC_AIRFLOW_USER": airflow_server.user, "FLOWC_AIRFLOW_PASSWORD": airflow_server.password}
    for flow in (up, down):
        deployed = run_flowc("deploy", str(flow), *common, "--dags-folder", str(airflow_server.dags_folder))
        assert deployed.returncode == 0, deployed.stderr
    airflow_server.wait_for_dag("ScenarioUpFlow")
    airflow_server.wait_for_dag("ScenarioDownFlow")

    # trigger the first with a parameter: its first run fails at `check`
    triggered = run_flowc("trigger", str(up), *common, *login, "--param", "size=4", env=env)
    assert triggered.returncode == 0, triggered.stderr
    first = triggered.stdout.strip().splitlines()[-1]
    assert airflow_server.wait_for_run("ScenarioUpFlow", first)["state"] == "failed"
    watched = run_flowc("status", f"ScenarioUpFlow/{first}", "--flow", str(up), *where, *login, env=env)
    assert watched.returncode == 0, watched.stderr
    check = next(line for line in watched.stdout.splitlines() if line.lstrip().startswith("check "))
    assert "airflow: check failed" in check, watched.stdout
    assert _runs(airflow_server, "ScenarioDownFlow") == []  # a failed upstream starts nothing

    # fix the cause, resume remotely: a new Airflow run that reuses what finished
    marker.unlink()
    resumed = run_flowc("resume", f"ScenarioUpFlow/{first}", "--flow", str(up), *where, *login, env=env)
    assert resumed.returncode == 0, resumed.stderr
    second = resumed.stdout.strip().splitlines()[-1]
    assert second != first
    assert airflow_server.wait_for_run("ScenarioUpFlow", second)["state"] == "success", airflow_server.log_tail(40)
    start, check = (
        _meta(datastore, "ScenarioUpFlow", second, "start"),
        _meta(datastore, "ScenarioUpFlow", second, "check"),
    )
    assert start["origin_run_id"] == first  # copied from the failed run: its code did not run again
    assert check.get("origin_run_id") is None and check["run_id"] == second  # ran in the new run
    logs = run_flowc("logs", f"ScenarioUpFlow/{second}/end", "--datastore", str(datastore))
    assert "total 6" in logs.stdout, logs.stdout + logs.stderr  # the origin's parameter (size=4) carried over

    # the upstream's success started the downstream: watch it with flowc status
    deadline = time.monotonic() + 180
    while not (runs := _runs(airflow_server, "ScenarioDownFlow")):
        assert time.monotonic() < deadline, airflow_server.log_tail(40)
        time.sleep(1)
    down_run = airflow_server.wait_for_run("ScenarioDownFlow", runs[0]["dag_run_id"])
    assert down_run["state"] == "success" and down_run["run_type"] == "asset_triggered", down_run
    watched = run_flowc(
        "status", f"ScenarioDownFlow/{down_run['dag_run_id']}", "--flow", str(down), *where, *login, env=env
    )
    assert watched.returncode == 0, watched.stderr
    assert "airflow: success" in watched.stdout and "airflow: end success" in watched.stdout, watched.stdout
