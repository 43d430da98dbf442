"""A real Airflow 3 on 127.0.0.1 for tests: `airflow api-server`, `scheduler` and `dag-processor`.

tests/conftest.py loads it as a plugin, so a test module only names the fixture:

    def test_x(airflow_server):
        airflow_server.url, airflow_server.dags_folder, airflow_server.token() ...

What runs: Airflow's own three processes, as a deployment runs them, with a
temporary AIRFLOW_HOME, a SQLite metadata database and the LocalExecutor (the
scheduler starts task processes itself and they report back through the
api-server's execution API, so DAG runs really execute).  Auth is the
SimpleAuthManager with one admin user whose password the fixture writes
(USER / PASSWORD below), so `POST /auth/token` works as in a deployment.
The dags folder is re-scanned every few seconds, so a DAG written there by
`flowc deploy -t airflow --dags-folder` appears without a restart.

Module-scoped: each test module that uses it gets its own server (about 20-40 s
to start on two cores).  It skips, with the reason, when Airflow is not
installed, no port is free, or a process does not come up healthy in time;
in CI (CI=1) a missing Airflow fails instead (tests/conftest.py `need`).
Airflow's logs are in `<home>/logs/*.log`; the skip reason quotes their tail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import free_port, need

USER = "flowc"
PASSWORD = "flowc-test-password"
START_TIMEOUT_S = 90  # cold start on two busy cores; a healthy start takes 20-40 s
PROCESSES = ("api-server", "scheduler", "dag-processor")


@dataclass
class AirflowServer:
    """One running Airflow: where it listens, where its DAGs go, and how to authenticate."""

    url: str  # http://127.0.0.1:PORT, no trailing slash
    home: Path
    dags_folder: Path
    env: dict[str, str]  # the environment the processes run with (AIRFLOW_HOME, AIRFLOW__*)
    user: str = USER
    password: str = PASSWORD
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def token(self) -> str:
        """A JWT from SimpleAuthManager's `POST /auth/token`, as `flowc trigger -t airflow` gets one."""
        body = json.dumps({"username": self.user, "password": self.password}).encode()
        request = urllib.request.Request(
            f"{self.url}/auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["access_token"]

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """One REST call (path under /api/v2) with a fresh token; the JSON answer."""
        request = urllib.request.Request(
            f"{self.url}/api/v2{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"},
            method=method,
        )
        # generous: on two cores shared with other test runs the api-server can stall for tens of seconds
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"{}")

    def wait_for_dag(self, dag_id: str, timeout_s: float = 60) -> dict:
        """Block until the dag-processor has parsed `dag_id` (and it is unpaused); its REST record."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                dag = self.api("GET", f"/dags/{dag_id}")
                if dag.get("is_paused"):
                    dag = self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
                return dag
            except urllib.error.HTTPError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise AssertionError(f"DAG {dag_id} not parsed in {timeout_s} s:\n{self.log_tail()}") from exc
            time.sleep(1)

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float = 300) -> dict:
        """Block until the dag run is finished (success or failed); its REST record."""
        from urllib.parse import quote

        deadline = time.monotonic() + timeout_s
        while True:
            run = self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
            if run["state"] in ("success", "failed"):
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} still {run['state']} after {timeout_s} s:\n{self.log_tail()}")
            time.sleep(1)

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for name in PROCESSES:
            path = self.home / "logs" / f"{name}.log"
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                # each process leads its own group: the scheduler's task processes go with it
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def airflow_environment(home: Path, port: int) -> dict[str, str]:
    """AIRFLOW__* settings for a small loopback deployment; flowc's own FLOWC_* settings are not passed on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FLOWC_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",  # two cores, shared
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "flowc-tests-not-a-secret",
            "AIRFLOW__API__SECRET_KEY": "flowc-tests-not-a-secret",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "3",  # a newly written DAG file is seen quickly
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=3) as response:
            health = json.loads(response.read())
    except (OSError, ValueError):
        return False
    # the scheduler and the dag-processor report their heartbeats through the metadata database
    return all(
        (health.get(part) or {}).get("status") == "healthy" for part in ("metadatabase", "scheduler", "dag_processor")
    )


def start_airflow(home: Path) -> AirflowServer:
    """Migrate the database and start the three processes; skip (with the reason) if they do not come up."""
    airflow = shutil.which("airflow", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    need(airflow is not None, "Airflow 3 is not installed (pip install apache-airflow==3.3.2)")
    try:
        port = free_port()
    except OSError as exc:
        pytest.skip(f"no free port on 127.0.0.1: {exc}")
    (home / "dags").mkdir(parents=True)
    (home / "logs").mkdir()
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    env = airflow_environment(home, port)
    server = AirflowServer(url=f"http://127.0.0.1:{port}", home=home, dags_folder=home / "dags", env=env)
    migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=180)
    if migrate.returncode != 0:
        pytest.skip(f"airflow db migrate failed: {migrate.stderr[-800:]}")
    for name in PROCESSES:
        log = open(home / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it
        server.processes[name] = subprocess.Popen(
            [airflow, *name.split()], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(server.url):
        dead = [name for name, p in server.processes.items() if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            reason = f"exited: {', '.join(dead)}" if dead else f"not healthy after {START_TIMEOUT_S} s"
            tail = server.log_tail()
            server.stop()
            pytest.skip(f"Airflow on 127.0.0.1:{port} did not start ({reason}):\n{tail}")
        time.sleep(1)
    return server


@pytest.fixture(scope="module")
def airflow_server():
    """A running Airflow 3 (api-server + scheduler + dag-processor, LocalExecutor, SQLite) for one test module."""
    home = Path(tempfile.mkdtemp(prefix="flowc-airflow-"))
    server = start_airflow(home)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
