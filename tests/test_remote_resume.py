"""Remote resume, as the runtime sees it: each task of the new run, started with `--origin-run ORIGIN[/STEP]`,
copies its finished twin from the origin run instead of running (flowc/runtime/reuse.py); and the CLI's
`flowc resume RUN -t TARGET`.  The engines' own runs are in tests/test_remote_resume_engines.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_flowc
from resume_support import FLOW_NAME, TASKS, UP_TO_CHECK, reused_and_ran, runs_of_code, task_meta, write_flow

from flowc.contract.command import EXIT_USAGE, ORIGIN_RUN_FLAG
from flowc.runtime.datastore import open_datastore


def runtime(code: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flowc.runtime", "step", *args],
        cwd=code,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


class Orchestrator:
    """Starts every task of a run in order with the argv every target renders, as an orchestrator would."""

    def __init__(self, tmp_path: Path):
        self.code = tmp_path / "code"
        write_flow(self.code)
        self.store_root = tmp_path / "ds"
        self.marks = tmp_path / "marks"
        self.marks.mkdir()
        self.store = open_datastore(str(self.store_root))

    def task(self, run_id: str, step: str, task: str, origin: str = "", marks: str | None = None):
        argv = ["resume_flow.py", step, "--run-id", run_id, "--task-id", task, "--datastore", str(self.store_root)]
        argv += [ORIGIN_RUN_FLAG, origin]
        if step == "start":
            argv += ["--param", f"marks={marks or self.marks}"]
        return runtime(self.code, *argv)

    def run(self, run_id: str, origin: str = "") -> str | None:
        """The step that failed, or None when the run finished."""
        for step, task in TASKS:
            result = self.task(run_id, step, task, origin)
            if result.returncode != 0:
                return step
        return None

    def failed_then_resumed(self, origin_suffix: str = "") -> None:
        assert self.run("first") == "check"
        (self.marks / "fixed").write_text("")
        assert self.run("second", "first" + origin_suffix) is None


def test_resume_reuses_what_finished_and_runs_what_failed(tmp_path):
    o = Orchestrator(tmp_path)
    o.failed_then_resumed()
    assert runs_of_code(o.marks) == {**dict.fromkeys(UP_TO_CHECK, 1), "check": 2, "end": 1}
    reused, ran = reused_and_ran(o.store, "second")
    assert ran == [("check", "0"), ("end", "0")]
    assert reused == TASKS[:5]
    start = task_meta(o.store, "second", "start")
    assert start["origin_run_id"] == "first" and start["run_id"] == "second"
    # the same blobs, by reference: nothing was copied or recomputed
    assert start["artifacts"] == task_meta(o.store, "first", "start")["artifacts"]
    # the new run records its origin and the parameters the orchestrator gave it
    record = json.loads((o.store_root / FLOW_NAME / "runs" / "second" / "run.json").read_text())
    assert record["origin_run_id"] == "first" and record["params"] == {"marks": str(o.marks)}
    first = json.loads((o.store_root / FLOW_NAME / "runs" / "first" / "run.json").read_text())
    assert first["origin_run_id"] is None


def test_a_reused_foreach_still_hands_its_split_list_to_the_orchestrator(tmp_path):
    o = Orchestrator(tmp_path)
    assert o.run("first") == "check"
    out = tmp_path / "split.json"
    result = runtime(
        o.code, "resume_flow.py", "start", "--run-id", "second", "--task-id", "0", "--datastore",
        str(o.store_root), ORIGIN_RUN_FLAG, "first", "--param", f"marks={o.marks}", "--foreach-out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == ["0", "1", "2"]
    assert runs_of_code(o.marks)["start"] == 1


def test_from_step_reruns_it_and_everything_after(tmp_path):
    o = Orchestrator(tmp_path)
    (o.marks / "fixed").write_text("")
    assert o.run("first") is None
    assert o.run("second", "first/gather") is None
    assert runs_of_code(o.marks) == {"start": 1, "square-1": 1, "square-2": 1, "square-3": 1, "gather": 2,
                                     "check": 2, "end": 2}  # fmt: skip
    reused, ran = reused_and_ran(o.store, "second")
    assert reused == TASKS[:4] and ran == TASKS[4:]


def test_an_origin_task_with_a_corrupt_blob_runs_again(tmp_path):
    o = Orchestrator(tmp_path)
    assert o.run("first") == "check"
    sha = task_meta(o.store, "first", "square", "1")["artifacts"]["value"]
    (o.store_root / FLOW_NAME / "data" / sha).write_bytes(b"not the bytes its name promises")
    (o.marks / "fixed").write_text("")
    assert o.run("second", "first") is None
    counts = runs_of_code(o.marks)
    assert counts["square-2"] == 2 and counts["square-1"] == counts["square-3"] == counts["start"] == 1
    reused, ran = reused_and_ran(o.store, "second")
    assert ("square", "1") in ran and ("square", "0") in reused
    assert task_meta(o.store, "second", "end")["artifacts"]  # it finished on the rewritten blob


def test_an_empty_origin_is_a_fresh_run(tmp_path):
    o = Orchestrator(tmp_path)
    (o.marks / "fixed").write_text("")
    assert o.run("first", "") is None
    reused, ran = reused_and_ran(o.store, "first")
    assert reused == [] and ran == TASKS


@pytest.mark.parametrize(
    "origin, cause",
    [
        ("../etc", "must be letters, digits"),
        ("$(touch x)", "must be letters, digits"),
        ("{{workflow.name}}", "must be letters, digits"),
        ("first/no-such-step", "is not a step name"),
        ("first/nostep", "has no step 'nostep'"),
        ("first/", "is not a step name"),
        ("r", "cannot resume itself"),
    ],
)
def test_a_bad_origin_is_a_usage_error_naming_it(tmp_path, origin, cause):
    o = Orchestrator(tmp_path)
    result = o.task("r", "start", "0", origin)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert cause in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists() and not (o.store_root / FLOW_NAME / "runs" / "r").exists()


# ---------------------------------------------------------------------------- flowc resume -t


def test_remote_resume_refuses_what_it_cannot_start(tmp_path):
    o = Orchestrator(tmp_path)
    flow = str(o.code / "resume_flow.py")
    ds = ["--datastore", str(o.store_root)]
    missing = run_flowc("resume", "nope", "-t", "step-functions", "--flow", flow, *ds)
    assert missing.returncode == EXIT_USAGE and "has no run record" in missing.stderr, missing.stderr
    assert o.run("first") == "check"
    bad_from = run_flowc("resume", "first", "-t", "argo", "--flow", flow, "--from", "nostep", *ds)
    assert bad_from.returncode == EXIT_USAGE and "has no such step" in bad_from.stderr
    bad_id = run_flowc("resume", "$(x)", "-t", "argo", "--flow", flow, *ds)
    assert bad_id.returncode == EXIT_USAGE and "run id" in bad_id.stderr
    no_flow = run_flowc("resume", "first", "-t", "argo", *ds)
    assert no_flow.returncode == EXIT_USAGE and "--flow" in no_flow.stderr
    local_flag = run_flowc("resume", "first", "-t", "argo", "--flow", flow, "--run-id", "x", *ds)
    assert local_flag.returncode == EXIT_USAGE and "--run-id" in local_flag.stderr
    # the record an orchestrated run's start task wrote names no flow file: resumed here only with --flow
    here = run_flowc("resume", f"{FLOW_NAME}/first", *ds)
    assert here.returncode == EXIT_USAGE and "started by an orchestrator" in here.stderr, here.stderr
    remote_flag = run_flowc("resume", "first", "--param", "marks=x", *ds)
    assert remote_flag.returncode == EXIT_USAGE and "-t TARGET" in remote_flag.stderr
    for result in (missing, bad_from, bad_id, no_flow, local_flag, here, remote_flag):
        assert "Traceback" not in result.stderr


def test_remote_resume_asks_for_an_include_file_again(tmp_path):
    o = Orchestrator(tmp_path)
    record = o.store_root / FLOW_NAME / "runs" / "inc" / "run.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"params": {"marks": "flowc-include:" + "0" * 64}}))
    flow = str(o.code / "resume_flow.py")
    result = run_flowc("resume", "inc", "-t", "step-functions", "--flow", flow, "--datastore", str(o.store_root))
    assert result.returncode == EXIT_USAGE and "--param NAME=PATH" in result.stderr, result.stderr


def test_remote_resume_starts_the_run_through_the_targets_trigger(tmp_path):
    """The CLI's whole path, up to what the orchestrator would get (a dry run prints the request)."""
    o = Orchestrator(tmp_path)
    assert o.run("first") == "check"
    flow, ds = str(o.code / "resume_flow.py"), ["--datastore", str(o.store_root)]
    result = run_flowc("resume", "first", "-t", "step-functions", "--flow", flow, "--from", "gather", "--dry-run", *ds)
    assert result.returncode == 0, result.stderr
    assert "flowc-origin-run" in result.stdout and "first/gather" in result.stdout and str(o.marks) in result.stdout
