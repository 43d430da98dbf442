"""@trigger and @trigger_on_finish on Airflow 3, checked by Airflow itself.

DagBag loads the three trigger examples' DAGs; `dag.test()` of the upstream
shows its end task emitting the flow's asset event; run_params, the inlined
helper that reads an asset event's extra into params, is exercised on the
context shape Airflow gives a task.  The real api-server, scheduler and
dag-processor run in tests/test_triggers_airflow_server.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from conftest import EXAMPLES, ROOT, need, run_flowc
from flowc.contract.events import event_asset_uri, flow_asset_uri

HELPERS = ROOT / "tests" / "airflow_helpers.py"
AIRFLOW = "airflow"
EXAMPLE_DAGS = {
    "trigger_event": "TriggerEventFlow",
    "trigger_upstream": "TriggerUpstreamFlow",
    "trigger_downstream": "TriggerDownstreamFlow",
}


@pytest.fixture(scope="module")
def trigger_dags(tmp_path_factory):
    """The three examples compiled with --operator local into a migrated Airflow home's dags folder."""
    import os

    need(
        subprocess.run([sys.executable, "-c", "import airflow.sdk"]).returncode == 0,
        "apache-airflow 3 is not installed",
    )
    home = tmp_path_factory.mktemp("airflow_triggers")
    dags, code = home / "dags", home / "code"
    dags.mkdir()
    shutil.copytree(EXAMPLES, code)
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
    )
    airflow = (
        str(ROOT / ".venv" / "bin" / "airflow")
        if (ROOT / ".venv" / "bin" / "airflow").exists()
        else shutil.which("airflow")
    )
    migrate = subprocess.run(
        [airflow or AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=180
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    for example in EXAMPLE_DAGS:
        compiled = run_flowc(
            "compile",
            str(code / f"{example}.py"),
            "-t",
            "airflow",
            "--operator",
            "local",
            "--datastore",
            str(home / "datastore"),
            "-o",
            str(dags / f"{example}.py"),
            env={"FLOWC_CODE_DIR": str(code)},
        )
        assert compiled.returncode == 0, compiled.stderr
    return home, dags, env


def helper(command: str, argument: str, env: dict):
    result = subprocess.run(
        [sys.executable, str(HELPERS), command, argument], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_trigger_dags_import_with_asset_schedules(trigger_dags):
    _, dags, env = trigger_dags
    bag = helper("inspect", str(dags), env)
    assert bag["import_errors"] == {}
    found = bag["dags"]
    assert set(found) == set(EXAMPLE_DAGS.values())
    assert event_asset_uri("data.updated") in found["TriggerEventFlow"]["schedule"]
    assert flow_asset_uri("TriggerUpstreamFlow") in found["TriggerDownstreamFlow"]["schedule"]
    assert "AssetTriggeredTimetable" in found["TriggerDownstreamFlow"]["schedule"]


def test_the_upstream_end_task_emits_the_flows_asset_event(trigger_dags):
    home, dags, env = trigger_dags
    spec = home / "spec.json"
    spec.write_text(
        json.dumps([{"file": str(dags / "trigger_upstream.py"), "dag_id": "TriggerUpstreamFlow", "conf": {}}])
    )
    (result,) = helper("run", str(spec), env)
    assert result["state"] == "success", result
    assert result["asset_events"] == [[flow_asset_uri("TriggerUpstreamFlow"), "end"]]


@pytest.fixture
def helpers_module(monkeypatch):
    sys.path.insert(0, str(ROOT / "flowc" / "templates"))
    try:
        import airflow_helpers
    finally:
        sys.path.pop(0)
    return airflow_helpers


class FakeAsset:
    """An Asset as the accessor yields it: hashable, with its URI."""

    def __init__(self, uri: str):
        self.uri = uri


def test_run_params_reads_the_mapped_fields_of_the_triggering_events(helpers_module, monkeypatch):
    uri = event_asset_uri("data.updated")
    monkeypatch.setattr(helpers_module, "EVENT_PARAMETERS", {uri: {"table": "table", "min_rows": "rows"}})
    asset = FakeAsset(uri)
    older, newer = SimpleNamespace(extra={"table": "old", "rows": 1}), SimpleNamespace(extra={"table": "new"})
    context = {"params": {"table": "events", "min_rows": 100}, "triggering_asset_events": {asset: [older, newer]}}
    # the last event wins; a field it lacks leaves the parameter at its value (the DAG's default)
    assert helpers_module.run_params(context) == {"table": "new", "min_rows": 100}
    other = FakeAsset(event_asset_uri("other"))
    context["triggering_asset_events"] = {other: [SimpleNamespace(extra={"table": "x"})]}
    assert helpers_module.run_params(context) == {"table": "events", "min_rows": 100}
    # a run started by hand has no triggering events
    assert helpers_module.run_params({"params": {"table": "t"}}) == {"table": "t"}
