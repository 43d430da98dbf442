"""`flowc run` forks its tasks from a warm zygote (flowc/local/zygote.py), and falls back to subprocesses.

Each test runs the real CLI; the flows record, as artifacts, the process facts a test needs (their parent's
command line, their own), which /proc gives on Linux.
"""

from __future__ import annotations

import sys
import textwrap

import pytest
from conftest import run_flowc

from flowc.runtime.client import Run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; the zygote is Linux/macOS")

PROCESS_FLOW = textwrap.dedent("""\
    import os
    from flowc import FlowSpec, step

    def cmdline(pid):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [part.decode() for part in f.read().split(b"\\0") if part]

    class ProcessFlow(FlowSpec):
        @step
        def start(self):
            self.parent = os.getppid()
            self.parent_argv = cmdline(os.getppid())
            self.own_argv = cmdline(os.getpid())
            self.cwd = os.getcwd()
            self.next(self.end)

        @step
        def end(self):
            self.parent = os.getppid()
            self.marker = os.environ.get("FLOWC_TEST_MARKER")
    """)


def _run(tmp_path, source: str, name: str, *args: str, env: dict | None = None):
    flow = tmp_path / f"{name}.py"
    flow.write_text(source)
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1", *args, env=env)
    return result, Run(f"{name.title().replace('_', '')}/r1", datastore=str(tmp_path / "ds"))


def test_tasks_are_forked_by_the_zygote_and_look_like_the_runtime_command(tmp_path):
    result, run = _run(tmp_path, PROCESS_FLOW, "process_flow", env={"FLOWC_TEST_MARKER": "m1"})
    assert result.returncode == 0, result.stdout + result.stderr
    start = run["start"].task.data
    assert "flowc.local.zygote" in start.parent_argv  # not the runner (flowc.cli), not a fresh interpreter
    assert run["end"].task.data.parent == start.parent  # one zygote for the run
    # `ps` and /proc show the runtime command, as they did for a subprocess (benchmarks/faults.py relies on it).
    assert start.own_argv[1:5] == ["-m", "flowc.runtime", "step", "process_flow.py"]
    assert start.cwd == str(tmp_path) and run["end"].task.data.marker == "m1"


def test_with_flowc_no_zygote_tasks_are_plain_subprocesses_of_the_runner(tmp_path):
    result, run = _run(tmp_path, PROCESS_FLOW, "process_flow", env={"FLOWC_NO_ZYGOTE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    start = run["start"].task.data
    assert "flowc.cli" in start.parent_argv and "flowc.local.zygote" not in start.parent_argv
    assert start.own_argv[1:3] == ["-m", "flowc.runtime"]


CRASH_FLOW = textwrap.dedent("""\
    import ctypes, os
    from flowc import FlowSpec, retry, step

    class CrashFlow(FlowSpec):
        @step
        def start(self):
            self.ways = ["fine", "exit", "segv"]
            self.next(self.body, foreach="ways")

        @retry(times=1, minutes_between_retries=0)
        @step
        def body(self):
            marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crashed-" + self.input)
            self.parent = os.getppid()
            if self.input != "fine" and not os.path.exists(marker):
                open(marker, "w").close()
                if self.input == "exit":
                    os._exit(7)
                ctypes.string_at(0)  # SIGSEGV: the interpreter itself dies
            self.next(self.join)

        @step
        def join(self, inputs):
            self.parents = sorted(i.parent for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
    """)


def test_a_task_that_kills_its_interpreter_fails_that_attempt_only(tmp_path):
    result, run = _run(tmp_path, CRASH_FLOW, "crash_flow", "--max-workers", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[body/1] attempt 0 failed; retrying" in result.stdout
    assert "[body/2] attempt 0 failed; retrying" in result.stdout
    parents = run["join"].task.data.parents
    assert len(set(parents)) == 1, "the retries were forked by the same zygote: the crashes did not take it down"
    assert (tmp_path / "crashed-exit").exists() and (tmp_path / "crashed-segv").exists()


def test_a_crash_is_reported_with_its_exit_code_or_signal(tmp_path):
    source = CRASH_FLOW.replace("    @retry(times=1, minutes_between_retries=0)\n", "")
    result, _ = _run(tmp_path, source, "crash_flow", "--max-workers", "3")
    assert result.returncode == 1
    assert "[body/1] FAILED (exit 7)" in result.stdout
    assert "[body/2] FAILED (exit -11)" in result.stdout  # as subprocess.Popen reports a SIGSEGV
    assert "[body/0] ok" in result.stdout


LEAK_FLOW = textwrap.dedent("""\
    import sys
    from flowc import FlowSpec, step
    import leak_helper

    leak_helper.IMPORTS.append("flow")
    SEEN = []

    class LeakFlow(FlowSpec):
        @step
        def start(self):
            SEEN.append("start")
            leak_helper.IMPORTS.append("start")
            sys.modules["leak_marker"] = object()
            self.next(self.end)

        @step
        def end(self):
            SEEN.append("end")
            self.seen = list(SEEN)
            self.imports = list(leak_helper.IMPORTS)
            self.marker_leaked = "leak_marker" in sys.modules
    """)


def test_user_module_state_does_not_pass_from_one_task_to_the_next(tmp_path):
    (tmp_path / "leak_helper.py").write_text("IMPORTS = []\n")
    result, run = _run(tmp_path, LEAK_FLOW, "leak_flow")
    assert result.returncode == 0, result.stdout + result.stderr
    end = run["end"].task.data
    assert end.seen == ["end"] and end.imports == ["flow"] and end.marker_leaked is False


PARENT_KILLER_FLOW = textwrap.dedent("""\
    import os, signal, time
    from flowc import FlowSpec, retry, step

    class ParentKillerFlow(FlowSpec):
        @retry(times=1, minutes_between_retries=0)
        @step
        def start(self):
            marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "killed-zygote")
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getppid(), signal.SIGKILL)  # the zygote; this task dies with it
                time.sleep(30)
            self.parent = os.getppid()
            self.next(self.end)

        @step
        def end(self):
            self.parent = os.getppid()
    """)


def test_when_the_zygote_dies_the_run_goes_on_with_plain_subprocesses(tmp_path):
    result, run = _run(tmp_path, PARENT_KILLER_FLOW, "parent_killer_flow")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[start/0] attempt 0 failed; retrying" in result.stdout
    said = (result.stdout + result.stderr).replace(str(tmp_path), "")
    assert "zygote" not in said.lower()  # nothing said about it
    assert run["start"].task.data.parent == run["end"].task.data.parent  # both children of the runner now
