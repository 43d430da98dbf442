"""The runtime command on its own (`python -m flowc.runtime step ...`), as an orchestrator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

from flowc.contract.command import EXIT_CORRUPT


def runtime(flow_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flowc.runtime", "step", *args],
        cwd=flow_dir,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
    )


def step(flow_dir, flow_file, name, store, task="0", *extra, run="r"):
    return runtime(flow_dir, flow_file, name, "--run-id", run, "--task-id", task, "--datastore", str(store), *extra)


def meta(store, flow, name, task="0", run="r") -> dict:
    return json.loads((Path(store) / flow / "runs" / run / name / task / "meta.json").read_text())


def write_flow(tmp_path, body: str, name="f.py") -> Path:
    (tmp_path / name).write_text("from flowc import *\n" + textwrap.dedent(body))
    return tmp_path


def test_foreach_split_list_goes_to_the_datastore_and_foreach_out(tmp_path):
    store, out = tmp_path / "ds", tmp_path / "out" / "split.json"
    assert step(EXAMPLES, "nested_foreach.py", "start", store).returncode == 0
    result = step(EXAMPLES, "nested_foreach.py", "region", store, "1", "--foreach-out", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == ["1.0", "1.1", "1.2"]
    split = store / "NestedForeachFlow/runs/r/region/1/foreach.json"
    assert json.loads(split.read_text()) == ["1.0", "1.1", "1.2"]
    foreach = meta(store, "NestedForeachFlow", "region", "1")["foreach"]
    assert {k: foreach[k] for k in ("var", "num_splits")} == {"var": "months", "num_splits": 3}
    assert len(foreach["items"]) == 64  # the sha256 of the items as the step listed them
    start_split = json.loads((store / "NestedForeachFlow/runs/r/start/0/foreach.json").read_text())
    assert start_split == ["0", "1"]
    # A child reads self.input from its task id: region 1 is "south", month index 2 is 3.
    assert step(EXAMPLES, "nested_foreach.py", "cell", store, "1.2").returncode == 0
    assert meta(store, "NestedForeachFlow", "cell", "1.2")["parents"] == [{"step": "region", "task_id": "1"}]


def test_join_waits_for_every_child_and_names_the_missing_one(tmp_path):
    store = tmp_path / "ds"
    assert step(EXAMPLES, "foreach.py", "start", store).returncode == 0
    for task in ("0", "2"):
        assert step(EXAMPLES, "foreach.py", "train", store, task).returncode == 0
    result = step(EXAMPLES, "foreach.py", "pick", store)
    assert result.returncode == 1
    assert "train/1" in result.stderr and "not finished" in result.stderr
    assert step(EXAMPLES, "foreach.py", "train", store, "1").returncode == 0
    assert step(EXAMPLES, "foreach.py", "pick", store).returncode == 0
    parents = meta(store, "ForeachFlow", "pick")["parents"]
    assert [p["task_id"] for p in parents] == ["0", "1", "2"]


def test_artifacts_load_lazily_and_corrupt_blobs_are_refused(tmp_path):
    store = tmp_path / "ds"
    assert step(EXAMPLES, "linear.py", "start", store).returncode == 0
    numbers_sha = meta(store, "LinearFlow", "start")["artifacts"]["numbers"]
    assert step(EXAMPLES, "linear.py", "transform", store).returncode == 0
    (store / "LinearFlow/data" / numbers_sha).write_bytes(b"garbage")
    # `end` never reads `numbers`: it passes by reference, untouched.
    assert step(EXAMPLES, "linear.py", "end", store).returncode == 0
    assert meta(store, "LinearFlow", "end")["artifacts"]["numbers"] == numbers_sha
    # Reading it is refused, with the reason (transform is done: un-mark it, or it would exit at once).
    (store / "LinearFlow/runs/r/transform/0/DONE").unlink()
    result = step(EXAMPLES, "linear.py", "transform", store, run="r")
    assert result.returncode == EXIT_CORRUPT and "corrupt" in result.stderr


def test_unchanged_artifacts_are_stored_once(tmp_path):
    store = tmp_path / "ds"
    for name in ("start", "transform", "end"):
        assert step(EXAMPLES, "linear.py", name, store).returncode == 0
    blobs = [p for p in (store / "LinearFlow/data").iterdir()]
    assert len(blobs) == 3  # numbers, squares, total: each once, though every task holds `numbers`


PARAMS = """
class P(FlowSpec):
    count = Parameter("count", type=int, required=True)
    ratio = Parameter("ratio", default=0.5)

    @step
    def start(self):
        self.seen = (self.count, self.ratio)
        self.next(self.end)

    @step
    def end(self):
        self.count = 3
"""


@pytest.mark.parametrize(
    "params, code, fragment",
    [
        (["--param", "count=x"], 2, "bad value for parameter 'count'"),
        (["--param", "count="], 2, "parameter 'count' is required"),
        (["--param", "other=1"], 2, "unknown parameter 'other'"),
        (["--param", "count=4", "--param", "ratio="], 0, ""),
    ],
)
def test_parameter_values(tmp_path, params, code, fragment):
    folder = write_flow(tmp_path, PARAMS)
    result = step(folder, "f.py", "start", tmp_path / "ds", "0", *params)
    assert result.returncode == code, result.stderr
    assert fragment in result.stderr
    if code == 0:
        assert meta(tmp_path / "ds", "P", "start")["artifacts"].keys() >= {"count", "ratio", "seen"}


def test_parameters_are_read_only(tmp_path):
    folder = write_flow(tmp_path, PARAMS)
    assert step(folder, "f.py", "start", tmp_path / "ds", "0", "--param", "count=4").returncode == 0
    result = step(folder, "f.py", "end", tmp_path / "ds")
    assert result.returncode == 1 and "parameter 'count' is read-only" in result.stderr


BROKEN = """
import threading

class B(FlowSpec):
    @step
    def start(self):
        self.a = 1
        self.next(self.left, self.right)

    @step
    def left(self):
        self.lock = threading.Lock()
        self.next(self.join)

    @step
    def right(self):
        self.a = 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_unpicklable_artifact_names_it_and_the_step(tmp_path):
    folder = write_flow(tmp_path, BROKEN)
    assert step(folder, "f.py", "start", tmp_path / "ds").returncode == 0
    result = step(folder, "f.py", "left", tmp_path / "ds")
    assert result.returncode == 1
    assert "artifact 'lock' of step 'left' cannot be pickled" in result.stderr
    assert not (tmp_path / "ds/B/runs/r/left/0/DONE").exists()


def test_merge_conflict_names_the_artifact(tmp_path):
    folder = write_flow(tmp_path, BROKEN.replace("self.lock = threading.Lock()", "pass"))
    for name in ("start", "left", "right"):
        assert step(folder, "f.py", name, tmp_path / "ds").returncode == 0
    result = step(folder, "f.py", "join", tmp_path / "ds")
    assert result.returncode == 1 and "artifact 'a' has different values" in result.stderr
    fixed = write_flow(
        tmp_path,
        BROKEN.replace("self.lock = threading.Lock()", "pass").replace(
            "merge_artifacts(inputs)", "merge_artifacts(inputs, exclude=['a'])"
        ),
    )
    assert step(fixed, "f.py", "join", tmp_path / "ds").returncode == 0
    assert "a" not in meta(tmp_path / "ds", "B", "join")["artifacts"]


CATCHING = """
class C(FlowSpec):
    @retry(times=1)
    @catch(var="err")
    @step
    def start(self):
        from flowc import current
        raise KeyError(f"attempt {current.retry_count}")
        self.next(self.end)

    @timeout(seconds=1)
    @environment(vars={"GREETING": "hi"})
    @step
    def end(self):
        import os, time
        self.greeting = os.environ["GREETING"]
        time.sleep(float(os.environ.get("SLEEP", "0")))
"""


def test_catch_only_on_the_last_attempt_and_attempt_logs_are_kept(tmp_path):
    folder, store = write_flow(tmp_path, CATCHING), tmp_path / "ds"
    first = step(folder, "f.py", "start", store, "0", "--attempt", "0", "--max-attempts", "2")
    assert first.returncode == 1 and "will retry" in first.stderr
    assert not (store / "C/runs/r/start/0/DONE").exists()
    second = step(folder, "f.py", "start", store, "0", "--attempt", "1", "--max-attempts", "2")
    assert second.returncode == 0, second.stderr
    m = meta(store, "C", "start")
    assert (m["status"], m["attempt"], m["exception"]) == ("caught", 1, "KeyError: 'attempt 1'")
    logs = store / "C/runs/r/start/0/logs"
    assert "attempt 0" in (logs / "attempt-0.stderr").read_text()
    assert json.loads((logs / "attempt-0.json").read_text())["status"] == "failed"
    assert step(folder, "f.py", "end", store).returncode == 0  # the graph, not self.next, says what follows
    from flowc.runtime.client import Run

    data = Run("C/r", datastore=str(store))["end"].task.data
    assert isinstance(data.err, KeyError) and data.greeting == "hi"


def test_timeout_is_enforced_in_process(tmp_path):
    folder, store = write_flow(tmp_path, CATCHING), tmp_path / "ds"
    assert step(folder, "f.py", "start", store, "0", "--attempt", "1", "--max-attempts", "2").returncode == 0
    began = time.monotonic()
    result = runtime(
        folder, "f.py", "end", "--run-id", "r", "--task-id", "0", "--datastore", str(store), env={"SLEEP": "20"}
    )
    assert result.returncode == 1
    assert time.monotonic() - began < 10
    assert "exceeded its @timeout of 1 s" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["linear.py", "start", "--run-id", "r", "--task-id", "x1", "--datastore", "d"],
        ["linear.py", "start", "--run-id", "r", "--datastore", "d"],
        ["linear.py", "nosuch", "--run-id", "r", "--task-id", "0", "--datastore", "{tmp}"],
    ],
)
def test_usage_errors_exit_2(tmp_path, args):
    result = runtime(EXAMPLES, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.returncode == 2, result.stderr


def test_startup_imports_only_the_standard_library():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "flowc.runtime", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in modules if m.split(".")[0] in ("boto3", "botocore", "click", "networkx", "hera", "jinja2")}
    assert not {m for m in modules if m.startswith(("flowc.compiler", "flowc.cli"))}


def test_metaflow_imports_resolve_to_flowc_for_that_process_only(tmp_path):
    store = tmp_path / "ds"
    result = step(EXAMPLES, "metaflow_api.py", "start", store, "0", "--param", "size=3")
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import importlib.util; print(importlib.util.find_spec('metaflow'))"],
        capture_output=True,
        text=True,
    )
    assert check.stdout.strip() == "None"  # nothing was installed
    assert json.loads((store / "MetaflowApiFlow/runs/r/start/0/foreach.json").read_text()) == ["0", "1", "2"]


def test_catch_var_is_none_when_the_step_succeeds(tmp_path):
    # Metaflow's documented pattern: the next step tests `if not self.<var>:` after a step that succeeded.
    store = tmp_path / "ds"
    folder = write_flow(
        tmp_path,
        """
        class C(FlowSpec):
            @catch(var="divide_fail")
            @step
            def start(self):
                self.x = 1
                self.next(self.end)

            @step
            def end(self):
                self.ok = not self.divide_fail
        """,
    )
    first = step(folder, "f.py", "start", store)
    assert first.returncode == 0, first.stderr
    assert meta(store, "C", "start")["status"] != "caught"
    result = step(folder, "f.py", "end", store)
    assert result.returncode == 0, result.stderr
    from flowc.runtime.client import Run

    data = Run("C/r", datastore=str(store))["end"].task.data
    assert data.divide_fail is None and data.ok is True


def test_a_caught_exception_has_metaflows_wrapper_fields(tmp_path):
    """Metaflow's @catch stores a MetaflowExceptionWrapper: `.type` ("module.Name"), `.exception` (the
    message) and `.stacktrace`; flowc stores the exception itself with the same three fields."""
    store = tmp_path / "ds"
    folder = write_flow(
        tmp_path,
        """
        class C(FlowSpec):
            @catch(var="divide_fail", print_exception=False)
            @step
            def start(self):
                self.x = 1 / 0
                self.next(self.end)

            @step
            def end(self):
                self.fields = (self.divide_fail.type, self.divide_fail.exception, "1 / 0" in self.divide_fail.stacktrace)
        """,
    )
    assert step(folder, "f.py", "start", store).returncode == 0
    result = step(folder, "f.py", "end", store)
    assert result.returncode == 0, result.stderr
    from flowc.runtime.client import Run

    data = Run("C/r", datastore=str(store))["end"].task.data
    assert data.fields == ("builtins.ZeroDivisionError", "division by zero", True)
