"""Start and inspect runs of a deployed Airflow 3 DAG through Airflow's REST API (`/api/v2`, standard library HTTP).

trigger(request, params, origin_run=None) -> run id
  GET /api/v2/dags/DAG (deployed and parsed? paused?), then
  POST /api/v2/dags/DAG/dagRuns with a `dag_run_id` flowc chooses and `conf`:
  the given parameters as the typed JSON the DAG's `Param`s validate (int,
  float, bool, JSON), plus ORIGIN_RUN_INPUT for a remote resume.  The DAG's
  tasks pass the dag run id as `--run-id` (airflow_helpers.flowc_run_id keeps
  an id that is already a safe run id unchanged, and flowc's always is), so the
  printed id is the datastore's run id and what `flowc show/logs/status` accept.

status(request, run_id) -> RunView
  GET .../dagRuns/RUN and .../dagRuns/RUN/taskInstances: the dag run's state
  and each task instance's (queued, scheduled, running, up_for_retry, failed...;
  none yet = "no status").

Authentication: a bearer token from `--airflow-token` / FLOWC_AIRFLOW_TOKEN, else
one from `POST /auth/token` (the auth manager's login: SimpleAuthManager's, or
FAB's) with `--airflow-user` / FLOWC_AIRFLOW_USER and FLOWC_AIRFLOW_PASSWORD (a
password never goes on a command line).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from urllib.parse import quote

from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.deploy import DeployError, DeployRequest
from flowc.deploy.run_parameters import load_run_flow, new_run_id, prepare_run
from flowc.deploy.run_view import NodeView, RunView

DAG_RUN_ID_MAX = 100  # well inside Airflow's 250; the run id also names a datastore folder
TIMEOUT_S = 60  # an api-server under load answers slowly; a dead one fails sooner (connection refused)


class AirflowApi:
    """Airflow's REST API at `url` with a bearer token; each call's failure is a DeployError naming it."""

    def __init__(self, request: DeployRequest):
        url = request.airflow_url or os.environ.get("FLOWC_AIRFLOW_URL")
        if not url:
            raise DeployError("airflow needs the API server's URL: pass --airflow-url http://HOST:8080")
        if not url.startswith(("http://", "https://")):
            raise DeployError(f"--airflow-url {url!r} needs a scheme: http://HOST:8080")
        self.url = url.rstrip("/")
        self._token = request.airflow_token or os.environ.get("FLOWC_AIRFLOW_TOKEN")
        self._user = request.airflow_user or os.environ.get("FLOWC_AIRFLOW_USER")

    def token(self) -> str:
        if self._token:
            return self._token
        password = os.environ.get("FLOWC_AIRFLOW_PASSWORD")
        if not self._user or password is None:
            raise DeployError(
                "airflow needs a token (--airflow-token or FLOWC_AIRFLOW_TOKEN) or a login "
                "(--airflow-user or FLOWC_AIRFLOW_USER, with FLOWC_AIRFLOW_PASSWORD)"
            )
        answer = self._send("POST", "/auth/token", {"username": self._user, "password": password}, token=None)
        self._token = answer.get("access_token")
        if not self._token:
            raise DeployError(f"{self.url}/auth/token gave no access_token")
        return self._token

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        """One call under /api/v2; the JSON answer."""
        return self._send(method, "/api/v2" + path, body, token=self.token())

    def _send(self, method: str, path: str, body: dict | None, token: str | None) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise AirflowRefused(exc.code, f"{method} {path}: HTTP {exc.code} {_detail(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeployError(f"cannot reach Airflow at {self.url}: {getattr(exc, 'reason', exc)}") from None


class AirflowRefused(DeployError):
    """Airflow answered with an error status (kept, so a 404 can be told apart)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(exc.read()).get("detail")
    except (ValueError, OSError, AttributeError):
        return exc.reason or ""
    return json.dumps(detail)[:500] if not isinstance(detail, str) else detail[:500]


def dag_id(request: DeployRequest, flow) -> str:
    """The DAG id deploy gave the flow: `--name`, else the compiled file's own."""
    from flowc.compiler.targets.airflow import dag_id as compiled_dag_id  # the DAG id the compiled file declares

    return compiled_dag_id(flow, request.options)


def trigger(request: DeployRequest, params: dict[str, str], origin_run: str | None = None) -> str:
    """Create a dag run with a flowc-chosen id and the parameters as `conf`; returns the run id."""
    flow, checked = prepare_run(request, params)
    dag = dag_id(request, flow)
    run_id = new_run_id(dag, DAG_RUN_ID_MAX)
    conf = dict(checked.values)
    if origin_run is not None:
        conf[ORIGIN_RUN_INPUT] = origin_run
    body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
    if request.dry_run:
        where = request.airflow_url or "AIRFLOW_URL"
        request.echo(f"would POST {where}/api/v2/dags/{quote(dag, safe='')}/dagRuns {json.dumps(body, sort_keys=True)}")
        return run_id
    api = AirflowApi(request)
    try:
        found = api.call("GET", f"/dags/{quote(dag, safe='')}")
    except AirflowRefused as exc:
        if exc.status == 404:
            raise DeployError(
                f"Airflow at {api.url} has no DAG {dag}: deploy it (flowc deploy -t airflow) and let the "
                "dag-processor parse it"
            ) from None
        raise
    if found.get("is_paused"):
        request.echo(f"note: DAG {dag} is paused: the run waits, queued, until it is unpaused")
    api.call("POST", f"/dags/{quote(dag, safe='')}/dagRuns", body)
    return run_id


def status(request: DeployRequest, run_id: str) -> RunView:
    """The dag run's state and each task instance's; DeployError when it cannot be read."""
    flow = load_run_flow(request)
    dag = quote(dag_id(request, flow), safe="")
    api = AirflowApi(request)
    try:
        run = api.call("GET", f"/dags/{dag}/dagRuns/{quote(run_id, safe='')}")
    except AirflowRefused as exc:
        if exc.status == 404:
            raise DeployError(f"Airflow at {api.url} has no run {run_id} of DAG {dag_id(request, flow)}") from None
        raise
    listed = api.call("GET", f"/dags/{dag}/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=1000")
    steps = {s.name for s in flow.steps}
    nodes = []
    for ti in sorted(listed.get("task_instances", []), key=lambda t: (t["task_id"], t.get("map_index", -1))):
        index = ti.get("map_index", -1)
        name = ti["task_id"] if index is None or index < 0 else f"{ti['task_id']}[{index}]"
        why = ti.get("note") or (f"try {ti['try_number']}" if (ti.get("try_number") or 0) > 1 else None)
        nodes.append(
            NodeView(name, ti["task_id"] if ti["task_id"] in steps else None, ti.get("state") or "no status", why)
        )
    return RunView(
        "airflow", f"{dag_id(request, flow)}/{run_id}", run.get("state") or "unknown", run.get("note"), tuple(nodes)
    )
