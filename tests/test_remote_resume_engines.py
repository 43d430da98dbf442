"""Remote resume on the orchestrators' own engines: the first run of ResumeFlow (tests/resume_support.py) fails at
`check`; a second run given the first as ORIGIN_RUN_INPUT completes; the finished tasks did not run again,
proven by the steps' side-effect counts and the task records' origin_run_id.  And `RUN/STEP` re-runs STEP and
everything after it.

Argo on ../shared/tools/argo_sim.py (the origin as a workflow parameter, `-p`), Step Functions on
aws-local-stepfunctions with moto's S3 (the origin as an execution input key), Airflow 3 with `dag.test()`
(the origin as a dag-run conf key).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import run_flowc
from resume_support import FLOW_FILE, FLOW_NAME, TASKS, UP_TO_CHECK, reused_and_ran, runs_of_code, write_flow
from test_airflow import _airflow_env, _helper, airflow_home  # noqa: F401 - airflow_home is a fixture
from test_argo_execution import _explain, _require_sim, sim  # noqa: F401 - sim is a fixture
from test_step_functions import run_locally, s3_datastore  # noqa: F401 - s3_datastore is a fixture

from flowc.compiler import Options, compile_flow
from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.runtime.datastore import open_datastore

RESUMED = {**dict.fromkeys(UP_TO_CHECK, 1), "check": 2, "end": 1}
FROM_GATHER = {**dict.fromkeys(UP_TO_CHECK, 1), "gather": 2, "check": 3, "end": 2}  # after RESUMED


def assert_resumed(store, marks: Path, origin: str, resumed: str) -> None:
    assert runs_of_code(marks) == RESUMED
    reused, ran = reused_and_ran(store, resumed)
    assert reused == TASKS[:5] and ran == TASKS[5:]
    record = json.loads(store.read_text(f"{FLOW_NAME}/runs/{resumed}/run.json"))
    assert record["origin_run_id"] == origin and record["params"]["marks"] == str(marks)


def assert_rerun_from_gather(store, marks: Path, resumed: str) -> None:
    assert runs_of_code(marks) == FROM_GATHER
    reused, ran = reused_and_ran(store, resumed)
    assert reused == TASKS[:4] and ran == TASKS[4:]


# ---------------------------------------------------------------------------- Argo (argo_sim)


def test_argo_resume_reuses_finished_tasks(sim):  # noqa: F811 - the fixture
    _require_sim()
    code, marks = sim.root / "resume-code", sim.root / "resume-marks"
    path = write_flow(code)
    marks.mkdir()
    source, store = path.read_text(), open_datastore(str(sim.store))
    first, report = sim.run_source(source, FLOW_FILE, f"marks={marks}", workdir=code)
    assert first.returncode != 0 and report.get("phase") == "Failed", _explain(first)
    origin = report["workflow"]
    (marks / "fixed").write_text("")
    second, report = sim.run_source(source, FLOW_FILE, f"marks={marks}", f"{ORIGIN_RUN_INPUT}={origin}", workdir=code)
    assert second.returncode == 0 and report.get("phase") == "Succeeded", _explain(second)
    assert_resumed(store, marks, origin, report["workflow"])
    third, report = sim.run_source(
        source, FLOW_FILE, f"marks={marks}", f"{ORIGIN_RUN_INPUT}={report['workflow']}/gather", workdir=code
    )
    assert third.returncode == 0 and report.get("phase") == "Succeeded", _explain(third)
    assert_rerun_from_gather(store, marks, report["workflow"])


# ---------------------------------------------------------------------------- Step Functions


def test_step_functions_resume_reuses_finished_tasks(tmp_path, s3_datastore):  # noqa: F811 - the fixture
    code, marks = tmp_path / "code", tmp_path / "marks"
    path = write_flow(code)
    marks.mkdir()
    options = Options(datastore=s3_datastore, python=sys.executable)
    definition = json.loads(compile_flow(path.read_text(), FLOW_FILE, "step-functions", options).text)
    store = open_datastore(s3_datastore)
    given = {"parameters": {"marks": str(marks)}}
    first = run_locally(definition, tmp_path, "first", given, cwd=code)  # no origin key: a fresh run
    assert first["status"] == "FAILED", first
    assert [c["state"] for c in first["calls"] if c["exitCode"]] == ["check"]
    (marks / "fixed").write_text("")
    second = run_locally(definition, tmp_path, "second", {**given, ORIGIN_RUN_INPUT: "first"}, cwd=code)
    assert second["status"] == "SUCCEEDED", second
    assert_resumed(store, marks, "first", "second")
    third = run_locally(definition, tmp_path, "third", {**given, ORIGIN_RUN_INPUT: "second/gather"}, cwd=code)
    assert third["status"] == "SUCCEEDED", third
    assert_rerun_from_gather(store, marks, "third")


# ---------------------------------------------------------------------------- Airflow (dag.test)


def test_airflow_resume_reuses_finished_tasks(airflow_home, tmp_path):  # noqa: F811 - the fixture
    home, _ = airflow_home
    code, marks, dags, root = tmp_path / "code", tmp_path / "marks", tmp_path / "dags", tmp_path / "ds"
    path = write_flow(code)
    marks.mkdir()
    dags.mkdir()
    compiled = run_flowc(
        "compile", str(path), "-t", "airflow", "--operator", "local", "--datastore", str(root),
        "-o", str(dags / "resume.py"), env={"FLOWC_CODE_DIR": str(code)},
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    store = open_datastore(str(root))

    def dag_run(conf: dict) -> dict:
        spec = tmp_path / "spec.json"
        spec.write_text(json.dumps([{"file": str(dags / "resume.py"), "dag_id": FLOW_NAME, "conf": conf}]))
        (result,), _ = _helper("run", str(spec), _airflow_env(home, dags), timeout=300)
        return result

    def runs() -> set[str]:
        return set(store.children(f"{FLOW_NAME}/runs"))

    first = dag_run({"marks": str(marks)})
    assert first["state"] == "failed", first
    (origin,) = runs()
    (marks / "fixed").write_text("")
    second = dag_run({"marks": str(marks), ORIGIN_RUN_INPUT: origin})
    assert second["state"] == "success", second
    (resumed,) = runs() - {origin}
    assert_resumed(store, marks, origin, resumed)
    third = dag_run({"marks": str(marks), ORIGIN_RUN_INPUT: f"{resumed}/gather"})
    assert third["state"] == "success", third
    (again,) = runs() - {origin, resumed}
    assert_rerun_from_gather(store, marks, again)
