"""Issue 16's "Done when", end to end on a real Airflow 3.3 (tests/airflow_server.py: api-server, scheduler,
dag-processor on 127.0.0.1), as a user would do it with flowc's commands only:

deploy a pair of flows where the second runs when the first finishes (@trigger_on_finish, an Asset);
trigger the first with a parameter; its first run fails at a step; `flowc status` shows it on both
sides; `flowc resume RUN -t airflow` starts a new Airflow run that reuses the finished tasks (proven
from the task records: copied, not run); that run's success starts the second flow, whose status
is watched the same way.  The DAGs use --operator local (no Kubernetes runs here).
"""

from __future__ import annotations

import json
import sys
import time

from conftest import run_flowc

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
