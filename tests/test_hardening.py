"""Regression tests for what a hostile or careless user can give flowc (issue 13), each failing on the code before its fix."""

from __future__ import annotations

import textwrap

import pytest
from conftest import run_flowc

from flowc.runtime.client import Run

TINY_FLOW = textwrap.dedent("""\
    from flowc import FlowSpec, step

    class TinyFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            print("reached end")
""")


def test_a_flow_file_with_a_utf8_byte_order_mark_compiles_and_runs(tmp_path):
    """Python reads a UTF-8 BOM; flowc refused it as `invalid non-printable character U+FEFF`."""
    flow = tmp_path / "bom_flow.py"
    flow.write_bytes(b"\xef\xbb\xbf" + TINY_FLOW.encode())
    checked = run_flowc("check", str(flow))
    assert checked.returncode == 0, checked.stderr
    ran = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert Run("TinyFlow/r1", datastore=str(tmp_path / "ds")).successful


@pytest.mark.parametrize("module", ["json", "pickle", "queue", "flowc", "boto3"])
def test_a_flow_file_named_like_a_module_the_task_imports_is_refused_at_its_name(tmp_path, module):
    """`json.py` checked fine, then failed at run time with errors that never named the cause."""
    flow = tmp_path / f"{module}.py"
    flow.write_text(TINY_FLOW)
    result = run_flowc("check", str(flow))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"{flow}:1:1: error: the flow file is named like the module '{module}' "
        f"({'what a task imports' if module in ('flowc', 'boto3') else 'Python' + chr(39) + 's standard library'}); "
        f"running it would shadow that module: rename the file, e.g. {module}_flow.py"
    ]


UNORDERED_FOREACH = textwrap.dedent("""\
    from flowc import FlowSpec, step

    class SetFlow(FlowSpec):
        @step
        def start(self):
            self.words = {ITEMS}
            self.next(self.each, foreach="words")

        @step
        def each(self):
            self.word = self.input
            self.next(self.join)

        @step
        def join(self, inputs):
            self.seen = sorted(i.word for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
""")


@pytest.mark.parametrize(
    "items",
    [
        "{f'w{i}' for i in range(12)}",
        "dict.fromkeys(f'w{i}' for i in range(12))",
        "frozenset(f'w{i}' for i in range(12))",
    ],
    ids=["set", "dict", "frozenset"],
)
def test_foreach_over_an_unordered_collection_gives_each_child_a_distinct_item(tmp_path, items):
    """Each child re-iterated the set in its own hash order: 7 of 12 items processed, the run 'ok'."""
    flow = tmp_path / "set_flow.py"
    flow.write_text(UNORDERED_FOREACH.replace("{ITEMS}", items))
    result = run_flowc(
        "run",
        str(flow),
        "--datastore",
        str(tmp_path / "ds"),
        "--run-id",
        "r1",
        "--quiet",
        env={"PYTHONHASHSEED": "random"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = Run("SetFlow/r1", datastore=str(tmp_path / "ds"))["join"].task.data.seen
    assert seen == sorted(f"w{i}" for i in range(12))


def test_foreach_over_something_that_cannot_be_listed_fails_with_its_name(tmp_path):
    flow = tmp_path / "gen_flow.py"
    flow.write_text(UNORDERED_FOREACH.replace("self.words = {ITEMS}", "self.words = 12"))
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1", "--quiet")
    assert result.returncode == 1
    assert (
        "foreach artifact 'words' of step 'start' is a int, which cannot be listed once"
        in result.stdout + result.stderr
    )


SLEEPY_FLOW = textwrap.dedent("""\
    import os, signal, time
    from flowc import FlowSpec, step, timeout

    class SleepyFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.nap)

        @timeout(seconds=TIMEOUT)
        @step
        def nap(self):
            with open(os.environ["PID_FILE"], "w") as f:
                f.write(str(os.getpid()))
            signal.signal(signal.SIGALRM, signal.SIG_IGN)  # escapes the runtime's own alarm
            time.sleep(60)
            self.next(self.end)

        @step
        def end(self):
            pass
""")


def _start_run(tmp_path, timeout_seconds: int, run_id: str = "r1"):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    flow = tmp_path / "sleepy_flow.py"
    flow.write_text(SLEEPY_FLOW.replace("TIMEOUT", str(timeout_seconds)))
    pid_file = tmp_path / "task.pid"
    runner = subprocess.Popen(
        [sys.executable, "-m", "flowc.cli", "run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", run_id],
        cwd=ROOT,
        env=dict(os.environ, PID_FILE=str(pid_file)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return flow, pid_file, runner


def _wait_for(predicate, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie has exited
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_tasks_die_with_their_runner_and_the_run_says_so(tmp_path, how):
    """kill -9 of the runner left run.json `running` and the tasks committing into the dead run."""
    import signal

    _, pid_file, runner = _start_run(tmp_path, timeout_seconds=600)
    assert _wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60), runner.communicate()[0]
    task_pid = int(pid_file.read_text())
    runner.send_signal(getattr(signal, how))
    output = runner.communicate(timeout=60)[0]
    assert _wait_for(lambda: not _alive(task_pid), 10), "the task outlived its runner"
    run = Run("SleepyFlow/r1", datastore=str(tmp_path / "ds"))
    assert not (tmp_path / "ds" / "SleepyFlow" / "runs" / "r1" / "nap" / "0" / "DONE").exists()
    if how == "SIGKILL":
        assert run.status == "runner gone"
        shown = run_flowc("show", "SleepyFlow/r1", "--datastore", str(tmp_path / "ds"))
        assert "SleepyFlow/r1: runner gone" in shown.stdout
    else:
        assert runner.returncode == 130 and run.status == "interrupted", output


def test_a_second_runner_on_the_same_run_id_is_refused(tmp_path):
    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    first = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1")
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1")
    assert second.returncode == 2
    assert (
        f"flowc: error: run TinyFlow/r1 already exists in {tmp_path / 'ds'}: choose another --run-id" in second.stdout
    )
    assert Run("TinyFlow/r1", datastore=str(tmp_path / "ds")).successful  # the first run's record is untouched


def test_a_step_that_escapes_its_timeout_is_killed_from_outside(tmp_path):
    """A step that ignores SIGALRM ran for as long as it liked under @timeout."""
    import time

    began = time.monotonic()
    _, pid_file, runner = _start_run(tmp_path, timeout_seconds=1)
    output = runner.communicate(timeout=120)[0]
    took = time.monotonic() - began
    assert runner.returncode == 1, output
    assert "ran past its @timeout of 1s and did not stop: the runner killed it" in output
    assert took < 40, f"killed after {took:.0f}s; the step sleeps 60s"
    assert not _alive(int(pid_file.read_text()))
    task = Run("SleepyFlow/r1", datastore=str(tmp_path / "ds"))["nap"].task
    assert "killed by the runner after its @timeout of 1s" in task.attempts()[-1]["error"]


@pytest.fixture
def two_runs(tmp_path):
    """Two finished runs of TinyFlow in tmp_path/ds: r1 and r2."""
    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    for run_id in ("r1", "r2"):
        result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", run_id, "--quiet")
        assert result.returncode == 0, result.stdout + result.stderr
    return flow, tmp_path / "ds"


def test_a_corrupt_run_record_is_reported_and_does_not_hide_the_other_runs(two_runs):
    flow, ds = two_runs
    (ds / "TinyFlow" / "runs" / "r2" / "run.json").write_text("{bad")
    listed = run_flowc("runs", str(flow), "--datastore", str(ds))
    assert listed.returncode == 0, listed.stderr
    statuses = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()}
    assert statuses == {"r1": "ok", "r2": "unreadable"}
    shown = run_flowc("show", "TinyFlow/r2", "--datastore", str(ds))
    assert shown.returncode == 0 and "TinyFlow/r2: unreadable" in shown.stdout
    assert f"{ds}/TinyFlow/runs/r2/run.json is corrupt (not JSON" in shown.stdout
    resumed = run_flowc("resume", "TinyFlow/r2", "--datastore", str(ds))
    assert resumed.returncode == 2 and "Traceback" not in resumed.stderr
    assert resumed.stderr.startswith("error: cannot resume TinyFlow/r2: ") and len(resumed.stderr.splitlines()) == 1


def test_a_corrupt_task_record_shows_as_unreadable(two_runs):
    _, ds = two_runs
    (ds / "TinyFlow" / "runs" / "r1" / "start" / "0" / "meta.json").write_text("{bad")
    shown = run_flowc("show", "TinyFlow/r1", "--datastore", str(ds))
    assert shown.returncode == 0, shown.stderr
    start = next(line for line in shown.stdout.splitlines() if line.split()[0] == "start")
    assert "unreadable" in start and "meta.json is corrupt (not JSON" in start
    assert Run("TinyFlow/r1", datastore=str(ds))["start"].task.exception.endswith(
        "(not JSON: Expecting property name enclosed in double quotes at line 1)"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["show", "TinyFlow/r1"],
        ["logs", "TinyFlow/r1/start"],
        ["runs", "FLOW"],
        ["resume", "TinyFlow/r1"],
        ["run", "FLOW"],
    ],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize(
    "datastore,env,message",
    [
        ("s3://", {}, "error: bad S3 datastore 's3://': expected s3://bucket/prefix"),
        ("s3://bucket/p", {"FLOWC_S3_MAX_ATTEMPTS": "abc"}, "error: FLOWC_S3_MAX_ATTEMPTS='abc' is not a number"),
    ],
    ids=["no-bucket", "bad-attempts"],
)
def test_an_unusable_datastore_is_one_line_and_exit_2(tmp_path, command, datastore, env, message):
    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    args = [str(flow) if a == "FLOW" else a for a in command]
    result = run_flowc(*args, "--datastore", datastore, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [message]


@pytest.mark.parametrize(
    "command", [["show", "TinyFlow/r1"], ["runs", "FLOW"], ["logs", "TinyFlow/r1/start"]], ids=lambda c: c[0]
)
def test_a_missing_bucket_is_one_line_and_exit_2(tmp_path, moto_endpoint, command):
    from conftest import AWS_TEST_ENV

    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    args = [str(flow) if a == "FLOW" else a for a in command]
    result = run_flowc(
        *args,
        "--datastore",
        "s3://missing-bucket/p",
        env={**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_endpoint, "FLOWC_S3_MAX_ATTEMPTS": "2"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: S3 bucket 'missing-bucket' does not exist (endpoint {moto_endpoint})"
    ]


@pytest.mark.parametrize("run_id", ["../../../../escaped", "..", ".", ".hidden", "a/b", "x" * 129, "with space"])
def test_a_bad_run_id_is_refused_before_anything_is_written(tmp_path, run_id):
    """`--run-id ../../../../escaped` wrote run.json outside the datastore before the runtime refused it."""
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    flow = work / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    before = sorted(p for p in tmp_path.rglob("*"))
    result = run_flowc("run", str(flow), "--datastore", str(work / "ds"), "--run-id", run_id)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: run id ")
    assert sorted(p for p in tmp_path.rglob("*")) == before
    shown = run_flowc("show", f"TinyFlow/{run_id}", "--datastore", str(work / "ds"))
    assert shown.returncode == 2 and len(shown.stderr.strip().splitlines()) == 1 and "Traceback" not in shown.stderr


@pytest.mark.parametrize(
    "run_id",
    ["r1", "flow-abc12", "20261130T050444-246594", "manual__2026-11-30T00_00_00", "arn-like:exec:1", "x" * 128],
)
def test_run_ids_orchestrators_give_are_accepted(tmp_path, run_id):
    flow = tmp_path / "tiny_flow.py"
    flow.write_text(TINY_FLOW)
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", run_id, "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert Run(f"TinyFlow/{run_id}", datastore=str(tmp_path / "ds")).successful


GUARDED_FLOW = textwrap.dedent("""\
    import threading
    from flowc import FlowSpec, catch, retry, step

    class GuardedFlow(FlowSpec):
        @step
        def start(self):
            self.x = "the value of x"
            self.next(self.mid)

        @catch(var="err")
        @retry(times=3, minutes_between_retries=0)
        @step
        def mid(self):
            self.y = self.x.upper()
            MID_EXTRA
            self.next(self.end)

        @step
        def end(self):
            pass
""")


def _guarded(tmp_path, extra: str = "pass"):
    flow = tmp_path / "guarded_flow.py"
    flow.write_text(GUARDED_FLOW.replace("MID_EXTRA", extra))
    return flow


def _blob_path(ds, run_id: str, step: str, name: str):
    import json

    meta = json.loads((ds / "GuardedFlow" / "runs" / run_id / step / "0" / "meta.json").read_text())
    return ds / "GuardedFlow" / "data" / meta["artifacts"][name]


def _corrupt(path) -> None:
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF  # same size, different bytes
    path.write_bytes(bytes(data))


def test_a_corrupt_input_fails_the_task_at_once_not_through_retry_or_catch(tmp_path):
    """A CorruptBlob raised by reading self.x went through @retry (minutes of backoff) and @catch marked it caught."""
    import subprocess
    import sys

    flow, ds = _guarded(tmp_path), tmp_path / "ds"
    assert run_flowc("run", str(flow), "--datastore", str(ds), "--run-id", "r1").returncode == 0
    _corrupt(_blob_path(ds, "r1", "start", "x"))
    argv = [
        sys.executable,
        "-m",
        "flowc.runtime",
        "step",
        flow.name,
        "mid",
        "--run-id",
        "r1",
        "--task-id",
        "0",
        "--datastore",
        str(ds),
        "--attempt",
        "0",
        "--max-attempts",
        "4",
    ]
    (ds / "GuardedFlow" / "runs" / "r1" / "mid" / "0" / "DONE").unlink()
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 4, result.stderr  # EXIT_CORRUPT: the runner and orchestrators do not retry it
    assert "is corrupt (its content does not match its name)" in result.stderr
    assert "@catch stored" not in result.stderr
    assert not (ds / "GuardedFlow" / "runs" / "r1" / "mid" / "0" / "DONE").exists()
    task = Run("GuardedFlow/r1", datastore=str(ds))["mid"].task
    assert task.attempts()[-1]["status"] == "failed" and "CorruptBlob" in task.attempts()[-1]["error"]


def test_resume_repairs_a_corrupt_blob_instead_of_reusing_it(tmp_path):
    """A corrupt blob poisoned every later run: put_blob skipped the write when a file of that name existed."""
    flow, ds = _guarded(tmp_path), tmp_path / "ds"
    assert run_flowc("run", str(flow), "--datastore", str(ds), "--run-id", "r1").returncode == 0
    blob = _blob_path(ds, "r1", "start", "x")
    good = blob.read_bytes()
    _corrupt(blob)
    resumed = run_flowc("resume", "GuardedFlow/r1", "--from", "mid", "--run-id", "r2", "--datastore", str(ds))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "[start/0] artifact 'x' of run r1 is corrupt: running it again" in resumed.stdout
    assert blob.read_bytes() == good
    assert Run("GuardedFlow/r2", datastore=str(ds))["mid"].task.data.y == "THE VALUE OF X"


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_storing_a_blob_over_a_corrupt_copy_rewrites_it(tmp_path, damage):
    from flowc.runtime.datastore import LocalDatastore

    store = LocalDatastore(str(tmp_path))
    data = b"some artifact bytes" * 100
    sha = store.put_blob("F", data)
    path = tmp_path / "F" / "data" / sha
    if damage == "truncate":
        path.write_bytes(data[:10])
    else:
        _corrupt(path)
    assert store.put_blob("F", data) == sha
    assert path.read_bytes() == data


def test_a_task_failing_outside_its_step_body_is_recorded_with_its_cause(tmp_path):
    """An unpicklable artifact left `flowc show` saying `running` forever, with Task.exception None."""
    flow, ds = _guarded(tmp_path, "self.lock = threading.Lock()"), tmp_path / "ds"
    result = run_flowc("run", str(flow), "--datastore", str(ds), "--run-id", "r1")
    assert result.returncode == 1
    task = Run("GuardedFlow/r1", datastore=str(ds))["mid"].task
    assert task.status == "failed"
    assert "artifact 'lock' of step 'mid' cannot be pickled" in task.exception
    shown = run_flowc("show", "GuardedFlow/r1", "--datastore", str(ds))
    assert any(line.split()[:3] == ["mid", "0", "failed"] for line in shown.stdout.splitlines()), shown.stdout


INCLUDE_FLOW = textwrap.dedent("""\
    from flowc import FlowSpec, IncludeFile, step

    class IncludeFlow(FlowSpec):
        notes = IncludeFile("notes", default="notes.txt")
        raw = IncludeFile("raw", is_text=False, default=None)

        @step
        def start(self):
            self.seen = self.notes
            self.seen_raw = self.raw
            self.next(self.end)

        @step
        def end(self):
            pass
""")


def _include_flow(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "include_flow.py").write_text(INCLUDE_FLOW)
    (folder / "notes.txt").write_text("notes beside the flow\n")
    return folder / "include_flow.py"


def test_include_file_is_read_where_the_run_is_launched(tmp_path):
    flow = _include_flow(tmp_path)
    ds = tmp_path / "ds"
    ran = run_flowc("run", str(flow), "--datastore", str(ds), "--run-id", "r1", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    start = Run("IncludeFlow/r1", datastore=str(ds))["start"].task.data
    assert (start.seen, start.seen_raw) == ("notes beside the flow\n", None)  # the default, beside the flow file
    (tmp_path / "other.bin").write_bytes(b"\xff\x00 bytes")
    (tmp_path / "other.txt").write_text("given at launch")
    ran = run_flowc(
        "run",
        str(flow),
        "--datastore",
        str(ds),
        "--run-id",
        "r2",
        "--param",
        "notes=other.txt",
        "--param",
        "raw=other.bin",
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    start = Run("IncludeFlow/r2", datastore=str(ds))["start"].task.data
    assert (start.seen, start.seen_raw) == ("given at launch", b"\xff\x00 bytes")  # relative to where it ran


def test_a_missing_include_file_is_one_line_at_launch(tmp_path):
    flow = _include_flow(tmp_path)
    ran = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--param", "notes=nowhere.txt", cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [
        "error: IncludeFile 'notes': cannot read 'nowhere.txt' (No such file or directory)"
    ]
    assert not (tmp_path / "ds" / "IncludeFlow" / "runs").exists()


def test_a_task_never_reads_a_path_named_by_a_run_parameter(tmp_path):
    """`--param config=/etc/hostname` stored that file as an artifact: on a cluster, a pod's service-account token."""
    import subprocess
    import sys

    flow = _include_flow(tmp_path)
    secret = tmp_path / "token"
    secret.write_text("pod service-account token")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.runtime",
            "step",
            flow.name,
            "start",
            "--run-id",
            "r1",
            "--task-id",
            "0",
            "--datastore",
            str(tmp_path / "ds"),
            "--param",
            f"notes={secret}",
        ],
        cwd=flow.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "IncludeFile 'notes' takes a file included when the run is launched" in result.stderr
    stored = [p.read_bytes() for p in (tmp_path / "ds").rglob("*") if p.is_file()]
    assert not any(b"service-account token" in data for data in stored)


def test_an_artifact_set_to_none_stays_none(tmp_path):
    """Every artifact set to None was stored as RuntimeError('NoneType: None'): it `is` the caught exception (None)."""
    flow = tmp_path / "none_flow.py"
    flow.write_text(
        TINY_FLOW.replace('print("reached end")', "self.y = None").replace(
            "self.next(self.end)", "self.x = None\n        self.next(self.end)"
        )
    )
    ran = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    data = Run("TinyFlow/r1", datastore=str(tmp_path / "ds"))["end"].task.data
    assert (data.x, data.y) == (None, None)
