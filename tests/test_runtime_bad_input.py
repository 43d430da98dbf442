"""Runtime bad input: each failure is one clear line naming the step and the cause, the documented exit
code, nothing marked DONE, and flowc's own line carries no traceback (the step's traceback is in its log)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT, run_flowc

FLOW = textwrap.dedent('''
    import os, sys, threading
    from flowc import FlowSpec, Parameter, step

    class BadFlow(FlowSpec):
        mode = Parameter("mode", default="ok")

        @step
        def start(self):
            self.x = 1
            if self.mode == "lock":
                self.lock = threading.Lock()
            self.next(self.middle)

        @step
        def middle(self):
            if self.mode == "missing":
                print(self.nope)
            if self.mode == "exit3":
                sys.exit(3)
            if self.mode == "exit0":
                sys.exit(0)
            if self.mode == "os_exit0":
                os._exit(0)
            if self.mode == "print":
                chunk = "x" * 1023 + "\\n"
                for _ in range(100 * 1024):  # 100 MiB
                    sys.stdout.write(chunk)
                sys.stdout.write("y" * (4 * 1024 * 1024))  # and one 4 MiB line without a newline
            self.next(self.end)

        @step
        def end(self):
            pass
''')


def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.py"
    path.write_text(FLOW)
    return path


def runtime(flow: Path, step: str, run_id: str, datastore: str, *extra: str, env: dict | None = None):
    """`python -m flowc.runtime step ...` exactly as a container runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.runtime",
            "step",
            str(flow),
            step,
            "--run-id",
            run_id,
            "--task-id",
            "0",
            "--datastore",
            datastore,
            *extra,
        ],
        cwd=ROOT,
        env=dict(os.environ, **(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )


def flowc_line(stderr: str) -> str:
    """flowc's own failure line: exactly one, on one line, no traceback in it."""
    lines = [line for line in stderr.splitlines() if line.startswith("flowc: ")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in lines[0]
    return lines[0]


def task_dir(store: Path, run_id: str, step: str) -> Path:
    return store / "BadFlow" / "runs" / run_id / step / "0"


def run_mode(tmp_path: Path, mode: str, *extra: str):
    store = tmp_path / "ds"
    result = run_flowc(
        "run", str(flow_file(tmp_path)), "--datastore", str(store), "--run-id", mode, "--param", f"mode={mode}", *extra
    )
    return store, result


def test_missing_artifact_names_the_artifact_and_the_step(tmp_path):
    store, result = run_mode(tmp_path, "missing")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "step 'middle' of BadFlow has no artifact 'nope'" in result.stdout
    assert not (task_dir(store, "missing", "middle") / "DONE").exists()
    # The task on its own: one flowc line on stderr; the traceback is kept in the saved log.
    direct = runtime(flow_file(tmp_path), "middle", "missing", str(store), "--attempt", "1")
    assert direct.returncode == 1
    line = flowc_line(direct.stderr)
    assert "step 'middle'" in line and "AttributeError" in line and "'nope'" in line
    saved = (task_dir(store, "missing", "middle") / "logs" / "attempt-1.stderr").read_text()
    assert "Traceback" in saved and "print(self.nope)" in saved


def test_unpicklable_artifact_is_named(tmp_path):
    store, result = run_mode(tmp_path, "lock")
    assert result.returncode == 1
    assert "artifact 'lock' of step 'start' cannot be pickled: TypeError" in result.stdout
    assert not (task_dir(store, "lock", "start") / "DONE").exists()
    assert not (task_dir(store, "lock", "start") / "meta.json").exists()


def test_sys_exit_in_a_step_is_a_failure_whatever_the_code(tmp_path):
    for mode, code in (("exit3", "3"), ("exit0", "0")):
        store, result = run_mode(tmp_path, mode)
        assert result.returncode == 1, (mode, result.stdout)
        assert f"step 'middle' called sys.exit({code}) before finishing" in result.stdout
        assert not (task_dir(store, mode, "middle") / "DONE").exists()
        assert not (task_dir(store, mode, "end")).exists()
        direct = runtime(flow_file(tmp_path), "middle", mode, str(store), "--attempt", "1")
        assert direct.returncode == 1
        assert "sys.exit" in flowc_line(direct.stderr)


def test_a_task_that_exits_0_without_done_is_not_taken_for_success(tmp_path):
    store, result = run_mode(tmp_path, "os_exit0")
    assert result.returncode == 1, result.stdout
    assert "exited 0 without marking itself done" in result.stdout
    assert not (task_dir(store, "os_exit0", "end")).exists()


def test_a_step_printing_100_mb_neither_hangs_nor_holds_it_in_memory(tmp_path):
    store = tmp_path / "ds"
    # Measure the peak memory of the runner and its tasks from a fresh process.
    probe = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            sys.executable,
            "-m",
            "flowc.cli",
            "run",
            str(flow_file(tmp_path)),
            "--datastore",
            str(store),
            "--run-id",
            "loud",
            "--param",
            "mode=print",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    code, peak_kib = map(int, result.stdout.split())
    assert code == 0, result.stderr
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"
    saved = (task_dir(store, "loud", "middle") / "logs" / "attempt-0.stdout").read_text()
    assert len(saved) < 8 * 1024 * 1024 + 1024  # FLOWC_LOG_LIMIT default, plus the note
    assert "characters of output left out of this saved log" in saved
    assert saved.startswith("x" * 1023 + "\n") and saved.endswith("y" * 1000)
    assert (task_dir(store, "loud", "end") / "DONE").exists()


def unwritable_datastore(tmp_path: Path) -> Path:
    """A datastore path flowc cannot create.

    As a regular user, a folder without write permission (0o500).  root ignores
    permission bits, so as root the datastore is put under a regular FILE, where
    mkdir fails with ENOTDIR whoever runs it.
    """
    if os.geteuid() == 0:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        return blocker / "ds"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return locked / "ds"


def test_datastore_without_permission(tmp_path):
    store = unwritable_datastore(tmp_path)
    try:
        result = run_flowc("run", str(flow_file(tmp_path)), "--datastore", str(store), "--run-id", "perm")
        assert result.returncode == 1
        assert f"cannot write to the datastore {store}" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        direct = runtime(flow_file(tmp_path), "start", "perm", str(store))
        assert direct.returncode == 1
        line = flowc_line(direct.stderr)
        assert "step 'start'" in line and f"cannot write to the datastore {store}" in line
        assert "Traceback" not in direct.stderr
    finally:
        store.parent.chmod(0o700)


def test_s3_bucket_that_does_not_exist(aws_env, tmp_path):
    root = "s3://no-such-bucket-flowc/prefix"
    result = run_flowc("run", str(flow_file(tmp_path)), "--datastore", root, "--run-id", "nob", env=aws_env)
    assert result.returncode == 1
    assert "S3 bucket 'no-such-bucket-flowc' does not exist" in result.stdout
    assert aws_env["AWS_ENDPOINT_URL"] in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    direct = runtime(flow_file(tmp_path), "start", "nob", root, env=aws_env)
    assert direct.returncode == 1
    line = flowc_line(direct.stderr)
    assert "step 'start'" in line and "S3 bucket 'no-such-bucket-flowc' does not exist" in line
